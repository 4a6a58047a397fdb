// Sends one-packet UDP "connections" as fast as it can (or at --rate per second): every packet
// goes to a new (source port, destination port) pair, so each one is a new conntrack entry at
// the gateway. Bounded by --count packets and --seconds. Prints a JSON summary.
//
//   ip netns exec NS node udpflood.mjs --dst 203.0.113.10 [--src 100.64.1.2] [--sockets 8]
//       [--dport 1024] [--dports 60000] [--count 1000000] [--seconds 5] [--rate 0]
import dgram from "node:dgram";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    dst: { type: "string" },
    src: { type: "string" },
    sockets: { type: "string", default: "8" },
    dport: { type: "string", default: "1024" },
    dports: { type: "string", default: "60000" },
    count: { type: "string", default: "1000000" },
    seconds: { type: "string", default: "5" },
    rate: { type: "string", default: "0" },
    batch: { type: "string", default: "64" },
  },
});
const count = Math.min(Number(values.count), 50_000_000);
const seconds = Math.min(Number(values.seconds), 120);
const rate = Number(values.rate);
const dportBase = Number(values.dport);
const dports = Math.max(1, Math.min(Number(values.dports), 65536 - dportBase));
const batch = Math.max(1, Math.min(Number(values.batch), 4096));
const payload = Buffer.from("x");

const sockets = await Promise.all(
  Array.from(
    { length: Math.max(1, Math.min(Number(values.sockets), 256)) },
    () =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket("udp4");
        s.on("error", reject);
        // large send buffers keep send() from failing with ENOBUFS under load
        s.bind({ address: values.src, port: 0 }, () => {
          s.setSendBufferSize(4 * 1024 * 1024);
          resolve(s);
        });
      }),
  ),
);

const started = performance.now();
const stopAt = started + seconds * 1000;
let sent = 0;
let errors = 0;
let i = 0;
while (sent + errors < count && performance.now() < stopAt) {
  const n = Math.min(batch, count - sent - errors);
  await new Promise((resolve) => {
    let pending = n;
    for (let k = 0; k < n; k++, i++) {
      const socket = sockets[i % sockets.length];
      const dport = dportBase + (Math.floor(i / sockets.length) % dports);
      socket.send(payload, dport, values.dst, (err) => {
        if (err) errors++;
        else sent++;
        if (--pending === 0) resolve();
      });
    }
  });
  if (rate > 0) {
    const due = started + ((sent + errors) / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}
const elapsed = (performance.now() - started) / 1000;
for (const s of sockets) s.close();
process.stdout.write(`${JSON.stringify({ sent, errors, seconds: elapsed, rate: sent / elapsed })}\n`);

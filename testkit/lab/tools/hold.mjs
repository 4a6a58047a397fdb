// Holds TCP connections open in the lab, both ends:
//
//   ip netns exec NS node hold.mjs --serve --address 203.0.113.10 --port 5100 [--seconds 60]
//   ip netns exec NS node hold.mjs --dst 203.0.113.10 --port 5100 --count 85 [--seconds 60]
//
// The server accepts and keeps every connection without a word; the client opens --count
// connections one after another, prints {"opened":N,"failed":M} once done, and keeps them until
// it is killed or --seconds pass. Bounded: at most 500 connections, at most 600 seconds.
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    address: { type: "string", default: "" },
    dst: { type: "string", default: "" },
    port: { type: "string", default: "0" },
    count: { type: "string", default: "1" },
    timeout: { type: "string", default: "1000" },
    seconds: { type: "string", default: "60" },
  },
});
const seconds = Math.min(Number(values.seconds), 600);
const port = Number(values.port);
const kept = [];
setTimeout(() => process.exit(0), seconds * 1000).unref();
// keep the process alive for the holding time (the timer above is unref'd)
const alive = setInterval(() => {}, 1000);
setTimeout(() => clearInterval(alive), seconds * 1000).unref();

if (values.serve) {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    if (kept.length < 500) kept.push(socket);
    else socket.destroy();
  });
  server.on("error", (e) => {
    process.stderr.write(`hold: ${e.message}\n`);
    process.exit(2);
  });
  server.listen(port, values.address, () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
} else {
  const count = Math.min(Number(values.count), 500);
  let opened = 0;
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ host: values.dst, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, Number(values.timeout));
      socket.once("connect", () => {
        clearTimeout(timer);
        kept.push(socket);
        resolve(true);
      });
      socket.once("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ok) opened++;
    else failed++;
  }
  for (const s of kept) s.on("error", () => {});
  process.stdout.write(`${JSON.stringify({ opened, failed })}\n`);
}

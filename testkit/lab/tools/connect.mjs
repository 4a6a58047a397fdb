// Opens N TCP connections or UDP exchanges from given source addresses (and optionally source
// ports) to one destination, and prints one JSON line per attempt with the address the server
// saw, then a summary line. Bounded in count, per-attempt time and total time.
//
//   ip netns exec NS node connect.mjs --proto tcp|udp --dst 203.0.113.10 --port 5000 --count 20
//       [--src 100.64.1.2 --src ...] [--sport 40000] [--timeout 1000] [--seconds 20] [--parallel 16]
//
// Source addresses are used in turn; with --sport, attempt i uses port sport+i.
import dgram from "node:dgram";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    proto: { type: "string", default: "tcp" },
    dst: { type: "string" },
    port: { type: "string" },
    count: { type: "string", default: "1" },
    src: { type: "string", multiple: true, default: [] },
    sport: { type: "string" },
    timeout: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    parallel: { type: "string", default: "16" },
  },
});
const count = Math.min(Number(values.count), 100_000);
const timeout = Math.min(Number(values.timeout), 10_000);
const deadline = Date.now() + Math.min(Number(values.seconds), 300) * 1000;
const parallel = Math.max(1, Math.min(Number(values.parallel), 256));
const dst = values.dst;
const port = Number(values.port);
if (!dst || !port) {
  process.stderr.write("connect: --dst and --port are required\n");
  process.exit(2);
}

function parseReply(text) {
  try {
    const line = text.split("\n")[0];
    return JSON.parse(line);
  } catch {
    return null;
  }
}

function tcpAttempt(src, sport) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: dst, port, localAddress: src, localPort: sport });
    let data = "";
    const done = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), timeout);
    socket.on("data", (d) => {
      data += d.toString();
      const reply = parseReply(data);
      if (reply !== null) done({ ok: true, seen: reply.peer, seenPort: reply.peerPort, sport: socket.localPort });
    });
    socket.on("error", (e) => done({ ok: false, error: e.code ?? e.message }));
    socket.on("end", () => done(parseReply(data) === null ? { ok: false, error: "closed" } : { ok: true }));
  });
}

function udpAttempt(src, sport) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    const done = (result) => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), timeout);
    socket.on("error", (e) => done({ ok: false, error: e.code ?? e.message }));
    socket.on("message", (msg) => {
      const reply = parseReply(msg.toString());
      if (reply !== null) done({ ok: true, seen: reply.peer, seenPort: reply.peerPort, sport: socket.address().port });
    });
    socket.bind({ address: src, port: sport ?? 0 }, () => socket.send("hello", port, dst));
  });
}

const sources = values.src.length > 0 ? values.src : [undefined];
let next = 0;
let good = 0;
let bad = 0;
async function worker() {
  while (next < count && Date.now() < deadline) {
    const i = next++;
    const src = sources[i % sources.length];
    const sport = values.sport === undefined ? undefined : Number(values.sport) + i;
    const started = performance.now();
    const attempt = values.proto === "udp" ? udpAttempt(src, sport) : tcpAttempt(src, sport);
    const result = await attempt;
    const ms = Math.round(performance.now() - started);
    if (result.ok) good++;
    else bad++;
    process.stdout.write(
      `${JSON.stringify({ i, src: src ?? null, ...result, sport: result.sport ?? sport ?? null, ms })}\n`,
    );
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
process.stdout.write(`${JSON.stringify({ done: true, ok: good, failed: bad })}\n`);

// A steady stream from a LAN client, to measure what a failover looks like from the LAN: every
// --interval ms it sends a numbered message (one UDP socket with a fixed source port, or one TCP
// connection that is reopened at once whenever it breaks) and prints, as JSON lines:
//   {"t":..,"event":"reply","seq":n,"seen":"198.51.100.130:40001"}   whenever the address the server saw changes
//   {"t":..,"event":"gap","from":..,"to":..,"ms":..}                  a silence of more than --gap ms between replies
//   {"t":..,"event":"closed","reason":"ECONNRESET"} / {"event":"open"} TCP connection life
//   {"event":"summary", ...}                                          at exit
// t is the wall clock in ms (Date.now with sub-ms precision), shared with the test on the same host.
//
//   ip netns exec NS node stream.mjs --proto udp|tcp --dst 203.0.113.10 --port 6001
//       [--interval 10] [--seconds 30] [--sport 42000] [--gap 40]
//
// Bounded: stops after --seconds (at most 3600) and sends at most one message per interval.
import dgram from "node:dgram";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    proto: { type: "string", default: "udp" },
    dst: { type: "string" },
    port: { type: "string" },
    interval: { type: "string", default: "10" },
    seconds: { type: "string", default: "30" },
    sport: { type: "string" },
    gap: { type: "string", default: "40" },
  },
});
const now = () => performance.timeOrigin + performance.now();
const interval = Math.max(1, Number(values.interval));
const seconds = Math.min(Number(values.seconds), 3600);
const gapMs = Number(values.gap);
const dst = values.dst;
const port = Number(values.port);
if (!dst || !port) {
  process.stderr.write("stream: --dst and --port are required\n");
  process.exit(2);
}
const out = (o) => process.stdout.write(`${JSON.stringify({ t: Math.round(now() * 10) / 10, ...o })}\n`);

let seq = 0;
let sent = 0;
let received = 0;
let lastReply = null;
let lastSeen = null;
let maxGap = 0;
const gaps = [];
const connections = [];

function onReply(line) {
  const t = now();
  received++;
  const [n, seen] = line.trim().split(" ");
  if (lastReply !== null && t - lastReply > gapMs) {
    const g = { from: Math.round(lastReply * 10) / 10, to: Math.round(t * 10) / 10, ms: Math.round(t - lastReply) };
    gaps.push(g);
    out({ event: "gap", ...g });
  }
  if (lastReply !== null) maxGap = Math.max(maxGap, t - lastReply);
  lastReply = t;
  if (seen !== lastSeen) {
    lastSeen = seen;
    out({ event: "reply", seq: Number(n), seen });
  }
}

const stoppers = [];
if (values.proto === "udp") {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg) => onReply(msg.toString("utf8")));
  socket.on("error", () => {});
  await new Promise((resolve) => socket.bind(values.sport ? Number(values.sport) : 0, resolve));
  const timer = setInterval(() => {
    socket.send(String(seq++), port, dst, () => {});
    sent++;
  }, interval);
  stoppers.push(() => {
    clearInterval(timer);
    socket.close();
  });
} else {
  let socket = null;
  let buffered = "";
  const open = () => {
    const s = net.connect({ host: dst, port, noDelay: true });
    const record = { opened: now(), closed: null, reason: null, seen: null };
    connections.push(record);
    socket = s;
    s.on("connect", () => out({ event: "open" }));
    s.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        record.seen ??= line.split(" ")[1] ?? null;
        onReply(line);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
    });
    const closed = (reason) => {
      if (record.closed !== null) return;
      record.closed = now();
      record.reason = reason;
      out({ event: "closed", reason });
      if (socket === s) {
        socket = null;
        buffered = "";
        // the application's answer to a broken connection: reconnect at once
        if (!stopping) setImmediate(open);
      }
    };
    s.on("error", (e) => closed(e.code ?? e.message));
    s.on("close", () => closed("closed"));
  };
  let stopping = false;
  open();
  const timer = setInterval(() => {
    if (socket?.writable && !socket.connecting) {
      socket.write(`${seq++}\n`);
      sent++;
    }
  }, interval);
  stoppers.push(() => {
    stopping = true;
    clearInterval(timer);
    socket?.destroy();
  });
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  for (const stop of stoppers) stop();
  out({
    event: "summary",
    sent,
    received,
    maxGapMs: Math.round(maxGap),
    gaps,
    connections: connections.map((c) => ({
      ...c,
      opened: Math.round(c.opened),
      closed: c.closed && Math.round(c.closed),
    })),
  });
  setTimeout(() => process.exit(0), 50);
}
setTimeout(finish, seconds * 1000);
process.on("SIGTERM", finish);
process.on("SIGINT", finish);

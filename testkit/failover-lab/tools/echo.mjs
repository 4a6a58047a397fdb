// The lab's internet service for steady streams: answers every UDP datagram, and every line on a
// TCP connection (which stays open), with the address and port it saw the sender come from, so
// a client learns which SNAT address (and so which ISP) carried each packet.
//
//   ip netns exec NS node echo.mjs --address 203.0.113.10 --udp 6001 --tcp 6000 [--seconds 300]
//
// Bounded: exits after --seconds; at most 512 TCP connections at a time.
import dgram from "node:dgram";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    address: { type: "string" },
    udp: { type: "string" },
    tcp: { type: "string" },
    seconds: { type: "string", default: "300" },
  },
});
const seconds = Math.min(Number(values.seconds), 3600);
const ready = [];

if (values.udp) {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const reply = `${msg.toString("utf8", 0, Math.min(msg.length, 64))} ${rinfo.address}:${rinfo.port}`;
    socket.send(reply, rinfo.port, rinfo.address);
  });
  ready.push(
    new Promise((resolve, reject) => socket.bind(Number(values.udp), values.address, resolve).on("error", reject)),
  );
}

if (values.tcp) {
  const server = net.createServer((socket) => {
    const seen = `${socket.remoteAddress}:${socket.remotePort}`;
    let buffered = "";
    socket.setNoDelay(true);
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      if (buffered.length > 65536) return socket.destroy();
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        socket.write(`${buffered.slice(0, nl)} ${seen}\n`);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
    });
  });
  server.maxConnections = 512;
  ready.push(
    new Promise((resolve, reject) => server.listen(Number(values.tcp), values.address, resolve).on("error", reject)),
  );
}

await Promise.all(ready);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
setTimeout(() => process.exit(0), seconds * 1000).unref();
setInterval(() => {}, 1 << 30);

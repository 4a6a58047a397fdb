// A TCP and UDP server for the lab's internet server namespace. It answers every connection and
// datagram with the address and port it saw the peer come from (so a client learns the SNAT
// address it was given) and prints one JSON line per peer on stdout.
//
//   ip netns exec NS node listen.mjs --address 203.0.113.10 [--address ...] --tcp 5000 --udp 5001
//       [--seconds 60] [--max 100000]
//
// Bounded: exits after --seconds, and stops recording after --max peers.
import dgram from "node:dgram";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    address: { type: "string", multiple: true, default: [] },
    tcp: { type: "string", multiple: true, default: [] },
    udp: { type: "string", multiple: true, default: [] },
    seconds: { type: "string", default: "60" },
    max: { type: "string", default: "100000" },
  },
});
const seconds = Math.min(Number(values.seconds), 600);
const max = Math.min(Number(values.max), 1_000_000);
let recorded = 0;

function record(proto, local, localPort, peer, peerPort) {
  if (recorded >= max) return;
  recorded++;
  process.stdout.write(`${JSON.stringify({ proto, local, localPort, peer, peerPort })}\n`);
}

const listening = [];
for (const address of values.address) {
  for (const port of values.tcp.map(Number)) {
    const server = net.createServer((socket) => {
      const peer = socket.remoteAddress ?? "";
      const peerPort = socket.remotePort ?? 0;
      record("tcp", address, port, peer, peerPort);
      socket.on("error", () => {});
      socket.end(`${JSON.stringify({ peer, peerPort })}\n`);
    });
    listening.push(new Promise((resolve, reject) => server.listen(port, address, resolve).on("error", reject)));
  }
  for (const port of values.udp.map(Number)) {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (_msg, rinfo) => {
      record("udp", address, port, rinfo.address, rinfo.port);
      socket.send(JSON.stringify({ peer: rinfo.address, peerPort: rinfo.port }), rinfo.port, rinfo.address);
    });
    listening.push(new Promise((resolve, reject) => socket.bind(port, address, resolve).on("error", reject)));
  }
}

try {
  await Promise.all(listening);
} catch (e) {
  process.stderr.write(`listen: ${e.message}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
setTimeout(() => process.exit(0), seconds * 1000);

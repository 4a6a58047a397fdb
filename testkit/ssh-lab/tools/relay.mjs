// A byte relay between the test process and the lab's console namespace. Unix sockets are files,
// so one created here is reachable from the host's network namespace too: that is the only way
// in or out, and no interface of the host is ever involved.
//
//   ip netns exec NS node relay.mjs [--unix-to-tcp PATH=HOST:PORT ...] [--tcp-to-unix HOST:PORT=PATH ...]
//       [--seconds 600]
//
//   --unix-to-tcp  listen on the unix socket PATH; each connection is piped to HOST:PORT (inside NS)
//   --tcp-to-unix  listen on HOST:PORT (inside NS); each connection is piped to the unix socket PATH
//
// Prints {"ready":true} once every listener is up. Bounded: exits after --seconds (at most 900).
import { rmSync } from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    "unix-to-tcp": { type: "string", multiple: true, default: [] },
    "tcp-to-unix": { type: "string", multiple: true, default: [] },
    seconds: { type: "string", default: "600" },
  },
});

const pipe = (a, b) => {
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.pipe(b);
  b.pipe(a);
};

const hostPort = (text) => {
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
};

const listeners = [];
for (const spec of values["unix-to-tcp"]) {
  const [path, target] = spec.split("=");
  const { host, port } = hostPort(target);
  rmSync(path, { force: true });
  const server = net.createServer((client) => pipe(client, net.connect({ host, port })));
  listeners.push(new Promise((resolve, reject) => server.once("error", reject).listen(path, resolve)));
}
for (const spec of values["tcp-to-unix"]) {
  const [listen, path] = spec.split("=");
  const { host, port } = hostPort(listen);
  const server = net.createServer((client) => pipe(client, net.connect(path)));
  listeners.push(new Promise((resolve, reject) => server.once("error", reject).listen(port, host, resolve)));
}

Promise.all(listeners).then(
  () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`),
  (e) => {
    process.stderr.write(`relay: ${e.message}\n`);
    process.exit(1);
  },
);
setTimeout(() => process.exit(0), Math.min(Number(values.seconds), 900) * 1000).unref();
// keep running until the timer, even with no connection open
setInterval(() => {}, 60_000);

/**
 * A console stand-in for agent benchmarks, run as its own process inside a lab namespace (the
 * agent then runs there as it runs on a gateway, reaching the console on that namespace's
 * 127.0.0.1):
 *
 *   ip netns exec NS node --import tsx bench/lib/stand-in-console.ts SPEC.json
 *
 * Serves the spec once, then parks long polls as the console does when nothing changed;
 * acknowledges every status and health report. Tells what it saw as JSON lines on stdout:
 * `{"listening":PORT}` once, then `{"running":REVISION}` and `{"connections":N}` (the new
 * connections of the rule counter deltas a report carried) as reports come in.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { zStatusReport } from "../../core/protocol/agent-api";

const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

const specFile = process.argv[2];
if (specFile === undefined) throw new Error("usage: stand-in-console.ts SPEC.json");
const spec = JSON.parse(readFileSync(specFile, "utf8")) as unknown;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (url.pathname === "/api/agent/v1/desired") {
      if (url.searchParams.get("have") === "none") return send(200, { spec });
      const t = setTimeout(() => send(204), 20_000);
      res.on("close", () => clearTimeout(t));
      return;
    }
    if (url.pathname === "/api/agent/v1/status") {
      const report = zStatusReport.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      if (!report.success) return send(400, { error: report.error.message });
      if (report.data.running !== null && report.data.running !== undefined) {
        say({ running: report.data.running.revision });
      }
      const connections = (report.data.ruleCounters ?? []).reduce((n, d) => n + d.connections, 0);
      if (connections > 0) say({ connections });
      return send(200, { ok: true, published: { revision: 1, failoverEpoch: 0 }, heartbeatSeconds: 15 });
    }
    if (url.pathname === "/api/agent/v1/health") return send(200, { ok: true, recorded: [] });
    send(404, { error: "not found" });
  });
});

server.listen(0, "127.0.0.1", () => say({ listening: (server.address() as AddressInfo).port }));
// the benchmark ends it with SIGTERM; it never outlives a lost parent by much either
process.on("SIGTERM", () => process.exit(0));
setTimeout(() => process.exit(0), 30 * 60_000).unref();

import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoolUsageReader } from "../../agent/health/pool-usage-reader";
import { execSpawner } from "../../agent/health/spawner";
import {
  addressFillPct,
  decidePoolUsageIncidents,
  type PoolUsageIncident,
  usageLevel,
} from "../../core/health/port-usage";
import type { PoolUsageReport } from "../../core/protocol/health-report";
import type { GatewaySpec } from "../../core/spec/schema";
import { applyOk, entry, requireRoot } from "../../testkit/datapath";
import { buildLab, type Lab, type LabProcess } from "../../testkit/lab/lab";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";

/**
 * Port usage read the agent's way on real connections: a pool with one address and a 100-port
 * range, filled by TCP connections held open to one web server, reaches the warning at 85
 * connections and the alert at 97; at 100 new connections fail and the kernel's insert_failed
 * counter, as the agent reads it, rises.
 */

const HOLD = fileURLToPath(new URL("../../testkit/lab/tools/hold.mjs", import.meta.url));
const PORT = 5100;
const ADDRESS = "198.51.100.10";

let lab: Lab;
let spec: GatewaySpec;
const holders: LabProcess[] = [];

async function waitForLine(p: LabProcess, what: string, ms = 30_000): Promise<Record<string, number | boolean>> {
  const until = Date.now() + ms;
  for (;;) {
    const line = p
      .stdout()
      .split("\n")
      .find((l) => l.startsWith("{"));
    if (line !== undefined) return JSON.parse(line) as Record<string, number | boolean>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (at most 5 s) until no TCP entry to the server is still closing: every handshake is over. */
async function closed() {
  const until = Date.now() + 5000;
  for (;;) {
    const listing = await lab.must(lab.ns.gateway, ["conntrack", "-L", "-n", "-p", "tcp"]).catch(() => "");
    const open = listing.split("\n").filter((l) => l.includes("tcp") && !/ (TIME_WAIT|CLOSE) /.test(l));
    if (open.length === 0 || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens `count` more connections from the first client and holds them. */
async function hold(count: number) {
  const p = lab.spawn(lab.clients[0]?.ns ?? "", [
    "node",
    HOLD,
    "--dst",
    lab.servers[0] ?? "",
    "--port",
    String(PORT),
    "--count",
    String(count),
    "--seconds",
    "90",
  ]);
  holders.push(p);
  return waitForLine(p, `${count} connections`);
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 1, prefix: "ghpu" });
  spec = gatewaySpec({
    isps: [
      isp("a", 1, lab.ispA.gatewayInterface, lab.ispA.nextHop, []),
      isp("b", 2, lab.ispB.gatewayInterface, lab.ispB.nextHop, []),
    ],
    pools: [pool("pa", "a", [ADDRESS], { from: 20_000, to: 20_099 })],
    entries: [entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" })],
  });
  await applyOk(lab, spec);
  const server = lab.spawn(lab.ns.server, [
    "node",
    HOLD,
    "--serve",
    "--address",
    lab.servers[0] ?? "",
    "--port",
    String(PORT),
    "--seconds",
    "120",
  ]);
  holders.push(server);
  await waitForLine(server, "the server");
}, 60_000);

afterAll(async () => {
  for (const p of holders) p.kill();
  await lab?.destroy();
});

describe("port usage of a 100-port pool", () => {
  it("raises the warning and then the alert as real connections fill it", async () => {
    const reader = new PoolUsageReader(
      lab.runner(lab.ns.gateway),
      execSpawner({ prefix: ["ip", "netns", "exec", lab.ns.gateway] }),
    );
    let open: PoolUsageIncident[] = [];
    const read = async () => {
      const report = (await reader.refresh(spec)) as PoolUsageReport;
      expect(report).not.toBeNull();
      expect(report.partial).toBe(false);
      const change = decidePoolUsageIncidents("gw1", open, report.addresses);
      open = change.open;
      const [u] = report.addresses;
      if (u === undefined) throw new Error("no usage for the pool address");
      return { report, u, pct: addressFillPct(u), change };
    };

    const empty = await read();
    expect(empty.u).toMatchObject({ poolId: "pa", address: ADDRESS, ports: 100, tcp: 0, busiest: null });
    expect(usageLevel(empty.pct)).toBe("ok");

    expect(await hold(85)).toEqual({ opened: 85, failed: 0 });
    const warn = await read();
    expect(warn.u.tcp).toBe(85);
    expect(warn.u.busiest).toEqual({ protocol: "tcp", destination: lab.servers[0], port: PORT, connections: 85 });
    expect(warn.pct).toBe(85);
    expect(warn.change.opened.map((i) => i.level)).toEqual(["warning"]);
    expect(warn.report.conntrack).toMatchObject({ count: expect.any(Number), insertFailed: expect.any(Number) });
    expect(warn.report.conntrack?.count).toBeGreaterThanOrEqual(85);
    expect(warn.report.conntrack?.max).toBeGreaterThan(0);

    expect(await hold(12)).toEqual({ opened: 12, failed: 0 });
    const alert = await read();
    expect(alert.u.tcp).toBe(97);
    expect(alert.pct).toBe(97);
    expect(alert.change.opened.map((i) => `${i.level} ${i.toward}`)).toEqual([`alert tcp ${lab.servers[0]}:${PORT}`]);
    expect(alert.change.resolved.map((i) => i.level)).toEqual(["warning"]);

    // past the range: the last 3 ports go, then new connections to that server are refused, and
    // the kernel counts the connections it could not insert (the symptom of exhaustion)
    const failedBefore = alert.report.conntrack?.insertFailed ?? 0;
    expect(await hold(5)).toEqual({ opened: 3, failed: 2 });
    const full = await read();
    expect(full.u.tcp).toBe(100);
    expect(full.pct).toBe(100);
    expect(full.report.conntrack?.insertFailed).toBeGreaterThan(failedBefore);
    expect(full.report.conntrack?.drop).toBeGreaterThan(alert.report.conntrack?.drop ?? 0);

    // the agent on a gateway reads the listing in place, without a process: the same usage (read
    // here through /proc/PID/net of a process in the gateway's namespace)
    const inNs = lab.spawn(lab.ns.gateway, ["sleep", "60"]);
    const pid = inNs.child.pid as number;
    try {
      const until = Date.now() + 5_000;
      while (readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync("/proc/self/ns/net") && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const inPlace = new PoolUsageReader(lab.runner(lab.ns.gateway), execSpawner(), {
        tableFile: `/proc/${pid}/net/nf_conntrack`,
      });
      expect((await inPlace.refresh(spec))?.addresses).toEqual(full.report.addresses);
    } finally {
      inNs.kill();
    }

    // every port the kernel picked is in the pool's range
    const listing = await lab.must(lab.ns.gateway, ["conntrack", "-L", "-n", "-p", "tcp"]);
    const ports = [...listing.matchAll(/dst=198\.51\.100\.10 sport=\d+ dport=(\d+)/g)].map((m) => Number(m[1]));
    expect(ports).toHaveLength(100);
    expect(ports.every((p) => p >= 20_000 && p <= 20_099)).toBe(true);

    // the connections end: the alert resolves once their conntrack entries are gone
    // (the closing handshakes finish first: a late ACK after the delete would be picked up as a new entry)
    const clients = holders.slice(1);
    for (const p of clients) p.kill();
    await Promise.all(clients.map((p) => p.exited));
    await closed();
    await lab.must(lab.ns.gateway, ["conntrack", "-D", "-p", "tcp"]).catch(() => "");
    const after = await read();
    expect(after.u.tcp).toBe(0);
    expect(after.change.resolved.map((i) => i.level)).toEqual(["alert"]);
    expect(after.change.open).toEqual([]);
  }, 120_000);
});

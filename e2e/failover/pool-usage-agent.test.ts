import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PoolUsageReport } from "../../core/protocol/health-report";
import { buildAgent } from "../../scripts/build-agent";
import { type LabAgent, enrollAndRun, waitFor } from "../../testkit/failover-lab/agents";
import { type ConsoleApi, signIn } from "../../testkit/failover-lab/api";
import { buildClusterLab, type ClusterLab, type LabProcess } from "../../testkit/failover-lab/cluster-lab";
import { startTestConsole, TEST_USERS, type TestConsole } from "../../testkit/failover-lab/console";
import { type ProvisionedCluster, provisionCluster } from "../../testkit/failover-lab/provision";

/**
 * Port usage end to end: the bundled agent in a namespace lab counts the connections of a pool
 * whose range is 100 ports, reports them with its health, and the console opens the warning and
 * then the alert incident in the audit log as a LAN client's connections held open to one server
 * fill the range (85, then 97).
 */

const HOLD = fileURLToPath(new URL("../../testkit/lab/tools/hold.mjs", import.meta.url));
const PORT = 5200;

let lab: ClusterLab;
let consoleApp: TestConsole;
let admin: ConsoleApi;
let cluster: ProvisionedCluster;
let agent: LabAgent | undefined;
let work: string;
const holders: LabProcess[] = [];

async function firstLine(p: LabProcess, what: string): Promise<Record<string, unknown>> {
  return waitFor(
    what,
    () => {
      const line = p
        .stdout()
        .split("\n")
        .find((l) => l.startsWith("{"));
      return line === undefined ? null : (JSON.parse(line) as Record<string, unknown>);
    },
    30_000,
    50,
  );
}

async function hold(count: number) {
  const p = lab.spawn(lab.clients[0]?.ns ?? "", [
    "node",
    HOLD,
    "--dst",
    lab.server,
    "--port",
    String(PORT),
    "--count",
    String(count),
    "--seconds",
    "120",
  ]);
  holders.push(p);
  return firstLine(p, `${count} connections`);
}

const incidents = () =>
  consoleApp.db.auditEvent.findMany({
    where: { clusterId: cluster.clusterId, action: { startsWith: "pool.usage_incident" } },
    orderBy: { seq: "asc" },
    select: { action: true, after: true },
  });

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test creates network namespaces: run it as root");
  work = mkdtempSync(join(tmpdir(), "gh-pool-usage-"));
  const { outfile } = await buildAgent(join(work, "gatehouse-agent.mjs"));
  consoleApp = await startTestConsole();
  lab = await buildClusterLab({ gateways: 1, clients: 1, prefix: "ghpa" });
  admin = await signIn(consoleApp.url, TEST_USERS.admin.username, TEST_USERS.admin.password);
  cluster = await provisionCluster(admin, lab, { name: `pu-${lab.runId}` });
  // pool a: 100 ports per address
  const pool = await admin.pool.get.query({ clusterId: cluster.clusterId, id: cluster.pools.a });
  await admin.pool.update.mutate({
    clusterId: cluster.clusterId,
    id: cluster.pools.a,
    version: pool.version,
    fields: { ...pool.entity, portRange: { from: 20_000, to: 20_099 } },
  });
  const { draftVersion } = await admin.draft.status.query({ clusterId: cluster.clusterId });
  await admin.draft.publish.mutate({ clusterId: cluster.clusterId, message: "100 ports", draftVersion });
  const server = lab.spawn(lab.ns.server, ["node", HOLD, "--serve", "--address", lab.server, "--port", String(PORT)]);
  holders.push(server);
  await firstLine(server, "the hold server");
  [agent] = await enrollAndRun(lab, {
    agentFile: outfile,
    workDir: join(work, "agents"),
    consoleUrl: consoleApp.url,
    gateways: cluster.gateways,
  });
  await waitFor(
    "the gateway to run revision 2",
    async () =>
      (await consoleApp.db.gateway.findFirst({ where: { clusterId: cluster.clusterId } }))?.appliedRevision === 2,
    30_000,
  );
}, 180_000);

afterAll(async () => {
  for (const p of holders) p.kill();
  if (agent && process.env.GH_FAILOVER_LOGS) process.stderr.write(agent.process.stderr());
  await lab?.destroy();
  await consoleApp?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("port usage with the real agent", () => {
  it("reports a 100-port pool address filling toward one server: the console opens the warning, then the alert", async () => {
    expect(await hold(85)).toEqual({ opened: 85, failed: 0 });
    // the agent counts every 10 s
    await waitFor("the warning incident", async () => (await incidents()).length === 1, 30_000, 250);
    const gw = await consoleApp.db.gateway.findFirstOrThrow({
      where: { clusterId: cluster.clusterId },
      select: { poolUsage: true },
    });
    const usage = JSON.parse(gw.poolUsage) as PoolUsageReport;
    const busy = usage.addresses.filter((a) => a.busiest !== null);
    expect(busy).toEqual([
      expect.objectContaining({
        poolId: cluster.pools.a,
        ports: 100,
        tcp: 85,
        busiest: { protocol: "tcp", destination: lab.server, port: PORT, connections: 85 },
      }),
    ]);
    expect(usage.conntrack?.count).toBeGreaterThanOrEqual(85);
    // the same dump counts the connections per ISP by their mark: what a failover of a would cut
    // (none goes by ISP b)
    const impact = (isp: string) =>
      admin.failover.impact.query({ clusterId: cluster.clusterId, ispId: isp, action: "failover" });
    await waitFor(
      "ISP a's connections",
      async () => ((await impact(cluster.isps.a)).connections ?? 0) >= 85,
      30_000,
      250,
    );
    expect((await impact(cluster.isps.a)).connections).toBe(85);
    expect((await impact(cluster.isps.b)).connections).toBe(0);

    expect(await hold(12)).toEqual({ opened: 12, failed: 0 });
    await waitFor("the alert incident", async () => (await incidents()).length === 3, 30_000, 250);
    const recorded = (await incidents()).map((e) => {
      const a = JSON.parse(e.after ?? "{}") as { level: string; pct: number; pool: string; gateway: string };
      return [e.action, a.level, a.pct, a.pool, a.gateway];
    });
    expect(recorded).toEqual([
      ["pool.usage_incident", "warning", 85, "pool-a", "gw1"],
      ["pool.usage_incident_resolved", "warning", 85, "pool-a", "gw1"],
      ["pool.usage_incident", "alert", 97, "pool-a", "gw1"],
    ]);
    const list = await admin.poolUsage.list.query({ clusterId: cluster.clusterId });
    expect(list.pools.find((p) => p.poolId === cluster.pools.a)).toMatchObject({ level: "alert", pct: 97 });
  }, 90_000);
});

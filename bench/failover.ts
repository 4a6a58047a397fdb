/**
 * Failover benchmark, with the real agent (the bundled program) in network namespaces against
 * the console's own handlers:
 *
 * 1. outage: one gateway probing both ISPs every 100 ms (down after 2 rounds lost, a probe lost
 *    after 50 ms); a LAN client sends a UDP datagram every 10 ms on one 5-tuple; ISP A fails
 *    silently (its router drops every packet while the link stays up: only the probes can tell).
 *    Outage: from the cut to the first reply that came back through ISP B. Detection: from the
 *    cut to the agent's "down" verdict (its log's timestamp, same host clock). The ISP is healed
 *    and the gateway fails back before the next run.
 * 1b. carrier outage: the same, but ISP A's link is cut (the router's port goes down, so the
 *    gateway's interface loses its carrier): the agent's link watcher fails over without waiting
 *    for probes. Each cut comes more than a second after the last link change, since the kernel
 *    batches carrier events to one per second.
 * 2. click to applied: 20 gateways, each a real agent driving its own namespace; an operator
 *    fails ISP A over through the API. From the call to the moment the console has heard every
 *    gateway run the new failover epoch; failover and restore alternate, the median is reported.
 *
 *   npm run bench:failover      (root; about two minutes)
 *
 * The last line is machine-readable:
 *   RESULT runs=<n> outage_median_ms=<n> outage_max_ms=<n> detect_median_ms=<n>
 *          carrier_outage_median_ms=<n> carrier_outage_max_ms=<n> click_to_applied_ms=<n for 20 gateways>
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollAndRun, type LabAgent, waitFor } from "../testkit/failover-lab/agents";
import { buildClusterLab, type ClusterLab, type CutMode } from "../testkit/failover-lab/cluster-lab";
import { type ConsoleApi, signIn } from "../testkit/failover-lab/api";
import { startTestConsole, TEST_USERS, type TestConsole } from "../testkit/failover-lab/console";
import { type ProvisionedCluster, provisionCluster } from "../testkit/failover-lab/provision";
import { firstReplyFrom, startEcho, startStream } from "../testkit/failover-lab/streams";
import { buildAgent } from "../scripts/build-agent";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 20);
const CLICKS = Number(process.env.BENCH_CLICKS ?? 6);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

interface Setup {
  lab: ClusterLab;
  api: ConsoleApi;
  cluster: ProvisionedCluster;
  agents: LabAgent[];
}

async function setUp(
  consoleApp: TestConsole,
  agentFile: string,
  work: string,
  opts: { gateways: number; clients: number; name: string; slowProbes?: boolean },
): Promise<Setup> {
  const lab = await buildClusterLab({ gateways: opts.gateways, clients: opts.clients, prefix: "ghb" });
  try {
    const admin = await signIn(consoleApp.url, TEST_USERS.admin.username, TEST_USERS.admin.password);
    const cluster = await provisionCluster(admin, lab, {
      name: opts.name,
      // the click benchmark measures the console and the agents' loads, not the probes
      ...(opts.slowProbes ? { monitor: { intervalMs: 1000, latencyThresholdMs: 500 }, failoverMode: "manual" } : {}),
    });
    const agents = await enrollAndRun(lab, {
      agentFile,
      workDir: join(work, opts.name),
      consoleUrl: consoleApp.url,
      gateways: cluster.gateways,
      logLevel: process.env.BENCH_AGENT_LOG ?? "info",
    });
    await waitFor(
      `all ${opts.gateways} gateways running revision 1 with both ISPs up`,
      async () => {
        const rows = await consoleApp.db.gateway.findMany({
          where: { clusterId: cluster.clusterId },
          select: { appliedRevision: true, health: true },
        });
        return rows.every((r) => {
          const h = JSON.parse(r.health) as { isps?: Record<string, { state: string }> };
          const states = Object.values(h.isps ?? {}).map((i) => i.state);
          return r.appliedRevision === 1 && states.length === 2 && states.every((s) => s === "up");
        });
      },
      60_000,
      100,
    );
    const api = await signIn(consoleApp.url, TEST_USERS.operator.username, TEST_USERS.operator.password);
    return { lab, api, cluster, agents };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

/** When the agent's log says ISP a went down, after `since` (ms). */
function downLoggedAt(agent: LabAgent, since: number): number | null {
  for (const l of agent.logs()) {
    if (l.msg !== "link state changed" || l.isp !== "isp-a" || l.to !== "down") continue;
    const t = Date.parse(String(l.time));
    if (t >= since) return t;
  }
  return null;
}

async function outageRuns(
  s: Setup,
  consoleApp: TestConsole,
  mode: CutMode,
  label: string,
  sportBase: number,
): Promise<{ outages: number[]; detects: number[] }> {
  const { lab, agents, cluster } = s;
  const agent = agents[0] as LabAgent;
  const client = lab.clients[0]?.ns as string;
  const onA = (seen: string | null) => seen !== null && lab.pools.a.includes(seen);
  const onB = (seen: string | null) => seen !== null && lab.pools.b.includes(seen);
  const outages: number[] = [];
  const detects: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const stream = startStream(lab, client, { proto: "udp", seconds: 30, sport: sportBase + run });
    await waitFor("the stream through A", () => onA(stream.seenNow()), 10_000, 10);
    // a random phase against the 100 ms probe period
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
    const cutAt = Date.now();
    await lab.cut("a", mode);
    await waitFor("the stream through B", () => onB(stream.seenNow()), 5_000, 5);
    const back = firstReplyFrom(stream.events(), lab.pools.b, cutAt);
    const outage = (back?.t ?? Number.NaN) - cutAt;
    const down = await waitFor("the agent's down verdict in its log", () => downLoggedAt(agent, cutAt), 5_000);
    outages.push(outage);
    detects.push(down - cutAt);
    const switched = agent
      .logs()
      .find((l) => l.msg === "failed over" && l.isp === "isp-a" && Date.parse(String(l.time)) >= cutAt);
    console.log(
      `${label} run ${run}: outage ${Math.round(outage)} ms, detection ${down - cutAt} ms; ` +
        `agent's switch ${JSON.stringify(switched?.timings ?? null)}`,
    );
    await stream.stop();
    await lab.heal("a", mode);
    await waitFor(
      "the gateway to fail back",
      async () =>
        (await consoleApp.db.auditEvent.count({
          where: { clusterId: cluster.clusterId, action: "isp.failback", at: { gte: new Date(cutAt) } },
        })) > 0,
      15_000,
      50,
    );
  }
  return { outages, detects };
}

async function clickRuns(s: Setup, consoleApp: TestConsole): Promise<number[]> {
  const { api, cluster } = s;
  const results: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const restore = i % 2 === 1;
    const t0 = performance.now();
    const r = restore
      ? await api.failover.restore.mutate({ clusterId: cluster.clusterId, ispId: cluster.isps.a })
      : await api.failover.failover.mutate({ clusterId: cluster.clusterId, ispId: cluster.isps.a, backupIspId: null });
    const op = await waitFor(
      "every gateway to apply",
      async () => {
        const o = await consoleApp.db.failoverOperation.findUnique({ where: { id: r.operationId } });
        return o !== null && o.outcome !== "" ? o : null;
      },
      10_000,
      10,
    );
    const wall = performance.now() - t0;
    const gateways = JSON.parse(op.gateways) as Array<{ appliedAt: string | null; applyMs: number | null }>;
    const last = Math.max(...gateways.map((g) => (g.appliedAt === null ? Number.NaN : Date.parse(g.appliedAt))));
    const consoleMs = last - op.requestedAt.getTime();
    const loads = gateways.map((g) => g.applyMs ?? Number.NaN);
    console.log(
      `${restore ? "restore " : "failover"} ${i + 1}: ${op.outcome} on ${gateways.length} gateways; ` +
        `call to all applied ${Math.round(wall)} ms (console's clock: ${consoleMs} ms); ` +
        `agent loads median ${Math.round(median(loads))} ms, max ${Math.round(Math.max(...loads))} ms`,
    );
    if (process.env.BENCH_VERBOSE) {
      const agentApplied = s.agents.map((a) => {
        const line = a.logs().find((l) => l.msg === "applied" && l.failoverEpoch === op.epoch);
        return line === undefined ? Number.NaN : Date.parse(String(line.time)) - op.requestedAt.getTime();
      });
      console.log(`  agents logged "applied" after (ms): ${agentApplied.sort((a, b) => a - b).join(" ")}`);
    }
    if (op.outcome !== "applied") throw new Error(`operation ${op.id} ended ${op.outcome}`);
    results.push(wall);
    await new Promise((r) => setTimeout(r, 500));
  }
  return results;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the failover benchmark creates network namespaces: run it as root");
  const work = mkdtempSync(join(tmpdir(), "gh-bench-failover-"));
  const consoleApp = await startTestConsole();
  let setup: Setup | null = null;
  try {
    const { outfile } = await buildAgent(join(work, "gatehouse-agent.mjs"));
    console.log(
      `outage: ${RUNS} silent failures and ${RUNS} carrier cuts of ISP A, probes every 100 ms, UDP every 10 ms`,
    );
    let outages: number[] = [];
    let detects: number[] = [];
    let carrier: number[] = [];
    if (RUNS > 0) {
      setup = await setUp(consoleApp, outfile, work, { gateways: 1, clients: 1, name: "bench-outage" });
      await startEcho(setup.lab);
      ({ outages, detects } = await outageRuns(setup, consoleApp, "blackhole", "silent", 43000));
      ({ outages: carrier } = await outageRuns(setup, consoleApp, "link", "carrier", 44000));
      await setup.lab.destroy();
      setup = null;
    }

    console.log(`click to applied: ${GATEWAYS} gateways, ${CLICKS} operator failovers and restores`);
    setup = await setUp(consoleApp, outfile, work, {
      gateways: GATEWAYS,
      clients: 0,
      name: "bench-click",
      slowProbes: true,
    });
    const clicks = await clickRuns(setup, consoleApp);
    console.log(
      `outage ms: ${outages.map(Math.round).join(" ")}\ndetection ms: ${detects.join(" ")}\n` +
        `carrier outage ms: ${carrier.map(Math.round).join(" ")}\n` +
        `click to applied ms: ${clicks.map(Math.round).join(" ")}`,
    );
    console.log(
      `RESULT runs=${outages.length} outage_median_ms=${Math.round(median(outages))} ` +
        `outage_max_ms=${Math.round(Math.max(...outages))} detect_median_ms=${Math.round(median(detects))} ` +
        `carrier_outage_median_ms=${Math.round(median(carrier))} carrier_outage_max_ms=${Math.round(Math.max(...carrier))} ` +
        `click_to_applied_ms=${Math.round(median(clicks))}`,
    );
  } finally {
    await setup?.lab.destroy();
    await consoleApp.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);

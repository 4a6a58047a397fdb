/**
 * Alerting benchmark on SQLite: how long from an agent's health report (posted to the real agent
 * API over HTTP) to the message arriving at a webhook receiver on 127.0.0.1, for incidents that
 * open and resolve; and how long one sweep of many clusters takes (the console runs one every 5 s).
 *
 *   npm run bench:alerts
 *
 *   RESULT incidents=<n> report_to_webhook_median_ms=<..> report_to_webhook_max_ms=<..> sweep_clusters=<n> sweep_ms=<..>
 */
import { AGENT_API_PREFIX } from "../core/protocol/agent-api";
import type { HealthReport, IspHealth } from "../core/protocol/health-report";
import { overrideAlertDeps } from "../server/services/alerts/deps";
import { createChannel } from "../server/services/alerts/channels";
import { deliverDue } from "../server/services/alerts/deliver";
import { evaluateAlerts } from "../server/services/alerts/evaluate";
import { startAlertScheduler } from "../server/services/alerts/scheduler";
import { createGateway } from "../server/services/gateways/gateways";
import { startWebhookReceiver } from "../testkit/alerts/receivers";
import { startAgentApiServer } from "../testkit/server/agent-test-server";
import { draftTestStore, META, makeTestCluster } from "../testkit/server/test-cluster";

const INCIDENTS = 20;
const SWEEP_CLUSTERS = 50;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function link(ispId: string, state: IspHealth["state"]): IspHealth {
  return {
    ispId,
    state,
    since: new Date().toISOString(),
    reason: state === "down" ? "probes lost" : "",
    lossPct: 0,
    rttMs: null,
    lastRttMs: null,
    probesSent: 1,
    probesLost: 0,
    proberError: "",
    failover: null,
    held: false,
    alert: "",
    connections: null,
    unansweredArp: [],
  };
}

async function main() {
  overrideAlertDeps({ secretKeyText: () => "b3".repeat(32) });
  const t = await draftTestStore("sqlite");
  const receiver = await startWebhookReceiver();
  const api = await startAgentApiServer(t.db);
  const scheduler = startAlertScheduler(t.db, { sweepMs: 3_600_000, kickDelayMs: 200, listeningSince: new Date(0) });
  try {
    const c = await makeTestCluster(t, "bench", 1);
    await createChannel(t.db, t.actor, META, {
      clusterId: c.clusterId,
      name: "hook",
      enabled: true,
      settings: { kind: "webhook", format: "json", url: receiver.url },
    });
    const gw = await createGateway(t.db, t.actor, META, { clusterId: c.clusterId, name: "gw", address: "" });
    const enrolled = await fetch(`${api.url}${AGENT_API_PREFIX}/enroll`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.enrollToken}`, "content-type": "application/json" },
      body: JSON.stringify({ agentVersion: "1.0.0" }),
    });
    const { agentToken } = (await enrolled.json()) as { agentToken: string };
    const report = (state: IspHealth["state"]): HealthReport => ({
      agentVersion: "1.0.0",
      at: new Date().toISOString(),
      running: null,
      lastLoad: null,
      isps: [link(c.ispA, state), link(c.ispB, "up")],
      conntrackTotal: null,
      poolUsage: null,
      events: [],
      samples: [],
    });
    const latencies: number[] = [];
    for (let i = 0; i < INCIDENTS * 2; i++) {
      const before = receiver.bodies.length;
      const started = performance.now();
      await fetch(`${api.url}${AGENT_API_PREFIX}/health`, {
        method: "POST",
        headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" },
        body: JSON.stringify(report(i % 2 === 0 ? "down" : "up")),
      });
      const deadline = Date.now() + 10_000;
      while (receiver.bodies.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      if (receiver.bodies.length !== before + 1) throw new Error(`message ${i + 1} did not arrive exactly once`);
      latencies.push(performance.now() - started);
    }
    scheduler.stop();
    await scheduler.settle();

    for (let n = 0; n < SWEEP_CLUSTERS; n++) await makeTestCluster(t, `sweep-${n}`, 1);
    const clusters = await t.db.cluster.findMany({ select: { id: true } });
    const sweeps: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      for (const cl of clusters) await evaluateAlerts(t.db, cl.id, new Date(), new Date(0));
      await deliverDue(t.db);
      sweeps.push(performance.now() - started);
    }
    console.log(
      `report to webhook: median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (kick delay 200 ms included)`,
    );
    console.log(`sweep of ${clusters.length} clusters: median ${median(sweeps).toFixed(0)} ms`);
    console.log(
      `RESULT incidents=${INCIDENTS} report_to_webhook_median_ms=${Math.round(median(latencies))} report_to_webhook_max_ms=${Math.round(Math.max(...latencies))} sweep_clusters=${clusters.length} sweep_ms=${Math.round(median(sweeps))}`,
    );
  } finally {
    scheduler.stop();
    await api.stop();
    await receiver.close();
    await t.close();
    overrideAlertDeps(null);
  }
}

await main();

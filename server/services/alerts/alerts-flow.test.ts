import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_API_PREFIX, type StatusReport } from "../../../core/protocol/agent-api";
import type { HealthReport, IspHealth } from "../../../core/protocol/health-report";
import type { AlertEvent } from "../../../core/alerts/message";
import {
  type SmtpReceiver,
  startSmtpReceiver,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../../testkit/alerts/receivers";
import { type AgentApiServer, startAgentApiServer } from "../../../testkit/server/agent-test-server";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type DraftTestStore, draftTestStore, META, makeTestCluster } from "../../../testkit/server/test-cluster";
import { createGateway } from "../gateways/gateways";
import { createChannel } from "./channels";
import { overrideAlertDeps } from "./deps";
import { deliverDue } from "./deliver";
import { evaluateAlerts } from "./evaluate";
import { type AlertScheduler, startAlertScheduler } from "./scheduler";

/**
 * Alerts end to end: a gateway's agent reports through the real agent API over HTTP, the console's
 * scheduler decides incidents from those reports, and real receivers on 127.0.0.1 (a webhook in
 * each format and an SMTP server with a login) get exactly one message per incident and one when
 * it resolves.
 */

/** Sweeps far apart (what the receivers get follows the reports), in a console that has run a while. */
const SCHEDULE = { sweepMs: 600_000, kickDelayMs: 20, listeningSince: new Date(0) };

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(PROVIDERS)("alerts from agent reports to real receivers on %s", (provider) => {
  let t: DraftTestStore;
  let api: AgentApiServer;
  let json: WebhookReceiver;
  let slack: WebhookReceiver;
  let smtp: SmtpReceiver;
  let scheduler: AlertScheduler;
  let clusterId = "";
  let ispA = "";
  let ispB = "";
  let gatewayId = "";
  let agentToken = "";

  beforeAll(async () => {
    overrideAlertDeps({ secretKeyText: () => "7c".repeat(32), firstRetryMs: 50, maxRetryMs: 200 });
    t = await draftTestStore(provider);
    const c = await makeTestCluster(t, "edge", 1);
    ({ clusterId, ispA, ispB } = c);
    api = await startAgentApiServer(t.db);
    [json, slack, smtp] = await Promise.all([
      startWebhookReceiver(),
      startWebhookReceiver(),
      startSmtpReceiver({ user: "alerts", password: "mail-pass-1" }),
    ]);
    await createChannel(t.db, t.actor, META, {
      clusterId,
      name: "json",
      enabled: true,
      settings: { kind: "webhook", format: "json", url: json.url },
    });
    await createChannel(t.db, t.actor, META, {
      clusterId,
      name: "slack",
      enabled: true,
      settings: { kind: "webhook", format: "slack", url: slack.url },
    });
    await createChannel(t.db, t.actor, META, {
      clusterId,
      name: "mail",
      enabled: true,
      settings: {
        kind: "email",
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        username: "alerts",
        password: "mail-pass-1",
        from: "gatehouse@example.org",
        to: ["noc@example.org", "oncall@example.org"],
      },
    });
    ({ id: gatewayId, agentToken } = await enroll("gw-a"));
    scheduler = startAlertScheduler(t.db, SCHEDULE);
  });

  afterAll(async () => {
    scheduler?.stop();
    await scheduler?.settle();
    overrideAlertDeps(null);
    await Promise.all([api?.stop(), json?.close(), slack?.close(), smtp?.close()]);
    await t?.close();
  });

  async function enroll(name: string): Promise<{ id: string; agentToken: string }> {
    const gw = await createGateway(t.db, t.actor, META, { clusterId, name, address: "" });
    const enrolled = await fetch(`${api.url}${AGENT_API_PREFIX}/enroll`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.enrollToken}`, "content-type": "application/json" },
      body: JSON.stringify({ agentVersion: "1.0.0" }),
    });
    expect(enrolled.status).toBe(200);
    return { id: gw.id, agentToken: ((await enrolled.json()) as { agentToken: string }).agentToken };
  }

  async function post(endpoint: "status" | "health", body: unknown, token = agentToken): Promise<void> {
    const res = await fetch(`${api.url}${AGENT_API_PREFIX}/${endpoint}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  const link = (ispId: string, state: IspHealth["state"], failoverTo: string | null = null): IspHealth => ({
    ispId,
    state,
    since: new Date().toISOString(),
    reason: state === "down" ? "5 probes in a row lost" : "",
    lossPct: state === "down" ? 100 : 0,
    rttMs: state === "down" ? null : 3,
    lastRttMs: null,
    probesSent: 10,
    probesLost: state === "down" ? 5 : 0,
    proberError: "",
    failover:
      failoverTo === null ? null : { backupIspId: failoverTo, mode: "automatic", since: new Date().toISOString() },
    held: false,
    alert: "",
    connections: null,
    unansweredArp: [],
  });
  const health = (isps: IspHealth[]): HealthReport => ({
    agentVersion: "1.0.0",
    at: new Date().toISOString(),
    samples: [],
    running: null,
    lastLoad: null,
    isps,
    conntrackTotal: null,
    poolUsage: null,
    events: [],
  });
  const status = (applyOk: boolean): StatusReport => ({
    agentVersion: "1.0.0",
    running: { revision: 0, failoverEpoch: 0 },
    lastApply: {
      revision: 1,
      failoverEpoch: 0,
      ok: applyOk,
      error: applyOk ? "" : "nft: Error: syntax error, unexpected newline",
      at: new Date().toISOString(),
      durationsMs: {},
    },
    facts: { hostname: "gw-a", kernel: "6.1", nftVersion: "1.0.6", interfaces: [] },
  });

  const events = (r: WebhookReceiver) => r.bodies as AlertEvent[];
  const summary = (r: WebhookReceiver) => events(r).map((e) => `${e.phase} ${e.key}`);
  const total = () => json.bodies.length + slack.bodies.length + smtp.mails.length;
  async function settled(count: number) {
    await until(`${count} messages per channel`, () => total() >= count * 3);
    // anything extra would arrive in the next passes: let them run, then count
    await new Promise((r) => setTimeout(r, 150));
    await scheduler.settle();
    expect(json.bodies).toHaveLength(count);
    expect(slack.bodies).toHaveLength(count);
    expect(smtp.mails).toHaveLength(count);
  }

  it("an ISP that goes down and fails over: one message each when it starts, none while it lasts, one when it ends", async () => {
    await post("status", status(true));
    await post("health", health([link(ispA, "up"), link(ispB, "up")]));
    await scheduler.settle();
    expect(total()).toBe(0);

    await post("health", health([link(ispA, "down", ispB), link(ispB, "up")]));
    await settled(2);
    expect(summary(json).sort()).toEqual([`open isp_down:${ispA}`, `open isp_failed_over:${ispA}`]);
    const down = events(json).find((e) => e.kind === "isp_down");
    expect(down).toMatchObject({
      version: 1,
      severity: "critical",
      cluster: { id: clusterId, name: "edge" },
      subject: 'ISP "isp-a" is down',
      detail: 'Gateway "gw-a" measures ISP "isp-a" down: 5 probes in a row lost',
      resolvedAt: null,
    });
    expect((slack.bodies as Array<{ text: string }>).map((b) => b.text).sort()).toEqual([
      ':rotating_light: [edge] CRITICAL: ISP "isp-a" is down',
      ':rotating_light: [edge] WARNING: ISP "isp-a" is failed over to "isp-b"',
    ]);
    expect(smtp.logins).toContain("alerts");
    expect(smtp.mails[0]).toMatchObject({
      from: "gatehouse@example.org",
      to: ["noc@example.org", "oncall@example.org"],
    });

    // the agent keeps reporting the same state: no new messages
    for (let i = 0; i < 5; i++) await post("health", health([link(ispA, "down", ispB), link(ispB, "up")]));
    await new Promise((r) => setTimeout(r, 200));
    await scheduler.settle();
    expect(total()).toBe(6);

    await post("health", health([link(ispA, "up"), link(ispB, "up")]));
    await settled(4);
    expect(summary(json).slice(2).sort()).toEqual([`resolved isp_down:${ispA}`, `resolved isp_failed_over:${ispA}`]);
    expect(events(json)[3]?.resolvedAt).not.toBeNull();
    expect(
      smtp.mails
        .map((m) => m.subject)
        .filter((s) => s.includes("RESOLVED"))
        .sort(),
    ).toEqual(['[edge] RESOLVED: ISP "isp-a" is down', '[edge] RESOLVED: ISP "isp-a" is failed over to "isp-b"']);
  });

  it("a failed apply and a gateway gone silent: one message and one resolution each", async () => {
    await post("status", status(false));
    await settled(5);
    expect(events(json)[4]).toMatchObject({
      phase: "open",
      key: `apply_failed:${gatewayId}`,
      detail: expect.stringContaining("nft: Error: syntax error"),
    });
    await post("status", status(false));
    await post("status", status(true));
    await settled(6);
    expect(events(json)[5]).toMatchObject({ phase: "resolved", key: `apply_failed:${gatewayId}` });

    // a minute without reports, as the sweep sees it
    scheduler.stop();
    await scheduler.settle();
    const later = new Date(Date.now() + 60_000);
    await evaluateAlerts(t.db, clusterId, later);
    await evaluateAlerts(t.db, clusterId, later);
    await deliverDue(t.db, later);
    expect(summary(json).slice(6)).toEqual([`open gateway_offline:${gatewayId}`]);
    expect(slack.bodies).toHaveLength(7);
    expect(smtp.mails).toHaveLength(7);
    scheduler = startAlertScheduler(t.db, SCHEDULE);
    await post("status", status(true));
    await settled(8);
    expect(summary(json).slice(7)).toEqual([`resolved gateway_offline:${gatewayId}`]);

    // the history is in the audit log: each incident opened and resolved once, each message sent once
    const counts = await t.db.auditEvent.groupBy({
      by: ["action"],
      where: { clusterId, action: { startsWith: "alert." } },
      _count: { _all: true },
    });
    expect(Object.fromEntries(counts.map((c) => [c.action, c._count._all]))).toEqual({
      "alert.incident_open": 4,
      "alert.incident_resolved": 4,
      "alert.sent": 24,
    });
  });

  it("a VRRP group with no healthy backup, from the agents' HA reports: one message, one resolution", async () => {
    // the cluster runs an HA pair (its draft settings say so; the incidents follow the reports)
    const row = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } });
    const settings = JSON.parse(row.settings) as Record<string, unknown>;
    await t.db.cluster.update({
      where: { id: clusterId },
      data: { settings: JSON.stringify({ ...settings, ha: { ...(settings.ha as object), mode: "active_standby" } }) },
    });
    const ha = (state: "master" | "backup") => ({
      ...status(true),
      ha: {
        checkedAt: new Date().toISOString(),
        groups: [{ name: "cluster", state, since: null, effectivePriority: 100 }],
        keepalived: "running" as const,
        conntrackd: "running" as const,
        transitions: [],
        error: "",
      },
    });
    await post("status", ha("master"));
    await settled(9);
    expect(events(json)[8]).toMatchObject({
      phase: "open",
      key: "no_healthy_backup:cluster",
      subject: 'No healthy backup for VRRP group "cluster"',
      detail: expect.stringContaining('only "gw-a" can hold it'),
    });
    const peer = await enroll("gw-b");
    await post("status", ha("backup"), peer.agentToken);
    await settled(10);
    expect(events(json)[9]).toMatchObject({ phase: "resolved", key: "no_healthy_backup:cluster" });
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, databaseUrlOf } from "../../db/client";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, errorOf } from "../../../testkit/server/api";
import { startWebhookReceiver, type WebhookReceiver } from "../../../testkit/alerts/receivers";
import { overrideAlertDeps } from "../../services/alerts/deps";
import { deliverDue } from "../../services/alerts/deliver";
import { evaluateAlerts } from "../../services/alerts/evaluate";

const SECRET_KEY = "5e".repeat(32);

describe.each(PROVIDERS)("alert channels and incidents on %s", (provider) => {
  let h: ApiHarness;
  let clusterId = "";
  const receivers: WebhookReceiver[] = [];
  const receiver = async (opts?: Parameters<typeof startWebhookReceiver>[0]) => {
    const r = await startWebhookReceiver(opts);
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    overrideAlertDeps({ secretKeyText: () => SECRET_KEY, firstRetryMs: 1, maxRetryMs: 1 });
    h = await apiHarness(provider);
    clusterId = (await h.as("admin").cluster.create({ name: "edge", description: "" })).id;
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
    await h.db.alertChannel.deleteMany({});
    await h.db.alertIncident.deleteMany({});
    await h.db.gateway.deleteMany({});
  });
  afterAll(async () => {
    overrideAlertDeps(null);
    await h?.close();
  });

  /** A gateway whose agent reported a failed apply just now: one apply_failed incident. */
  async function failingGateway(name = "gw-a") {
    return h.db.gateway.create({
      data: {
        clusterId,
        name,
        tokenHash: `hash-${name}`,
        lastSeenAt: new Date(),
        lastApplyOk: false,
        lastApplyError: "nft: syntax error in line 4",
      },
      select: { id: true },
    });
  }

  it("an admin adds a webhook channel; its URL is sealed, shown as a hint, and kept out of the audit log", async () => {
    const r = await receiver();
    const admin = h.as("admin");
    const c = await admin.alert.createChannel({
      clusterId,
      name: "ops-hook",
      settings: { kind: "webhook", format: "json", url: r.url },
    });
    expect(c).toMatchObject({
      name: "ops-hook",
      kind: "webhook",
      enabled: true,
      secretHint: expect.stringContaining("…"),
    });
    expect(c.secretHint.endsWith("XYZW")).toBe(true);
    const listed = await h.as("viewer").alert.channels({ clusterId });
    expect(JSON.stringify(listed)).not.toContain("s3cr3t-token");
    const row = await h.db.alertChannel.findUniqueOrThrow({ where: { id: c.id } });
    expect(row.secret).not.toContain("s3cr3t-token");
    expect(row.secret.startsWith("v1:")).toBe(true);
    const audit = await h.db.auditEvent.findMany({ where: { targetType: "alert_channel" } });
    expect(audit.map((a) => a.action)).toContain("alert_channel.create");
    expect(JSON.stringify(audit)).not.toContain("s3cr3t-token");

    // an update without a URL keeps the stored one: Send test still reaches the receiver
    const u = await admin.alert.updateChannel({
      id: c.id,
      version: c.version,
      name: "ops-hook",
      enabled: true,
      settings: { kind: "webhook", format: "slack" },
    });
    expect(u.settings).toEqual({ kind: "webhook", format: "slack" });
    expect(await admin.alert.testChannel({ id: c.id })).toEqual({ ok: true, error: "" });
    expect(r.bodies).toHaveLength(1);
    expect(r.bodies[0]).toMatchObject({ text: expect.stringContaining("[edge] TEST: Test message from Gatehouse") });
    // a stale version is refused, naming the channel
    const stale = await errorOf(
      admin.alert.updateChannel({
        id: c.id,
        version: c.version,
        name: "x",
        enabled: true,
        settings: { kind: "webhook", format: "json" },
      }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(stale.message).toContain('"ops-hook"');
  });

  it("bad input is refused naming the field, and nothing is saved", async () => {
    const admin = h.as("admin");
    const cases: Array<[unknown, string]> = [
      [{ clusterId, name: "", settings: { kind: "webhook", format: "json", url: "https://x.example/h" } }, "name"],
      [
        { clusterId, name: "a", settings: { kind: "webhook", format: "json", url: "file:///etc/passwd" } },
        "settings.url",
      ],
      [{ clusterId, name: "a", settings: { kind: "webhook", format: "json" } }, "settings.url"],
      [
        { clusterId, name: "a", settings: { kind: "webhook", format: "xml", url: "https://x.example/h" } },
        "settings.format",
      ],
      [{ clusterId, name: "a", settings: { kind: "pager" } }, "settings.kind"],
      [
        {
          clusterId,
          name: "a",
          settings: { kind: "email", host: "smtp.example", port: 25, security: "none", from: "x", to: "a@example.org" },
        },
        "settings.from",
      ],
      [
        {
          clusterId,
          name: "a",
          settings: {
            kind: "email",
            host: "smtp.example",
            port: 25,
            security: "none",
            username: "u",
            from: "a@example.org",
            to: "b@example.org",
          },
        },
        "settings.password",
      ],
    ];
    for (const [input, field] of cases) {
      const e = await errorOf(admin.alert.createChannel(input as never));
      expect(e.code, field).toBe("BAD_REQUEST");
      expect(e.message, field).toContain(field.split(".").pop() === "kind" ? "Kind" : "");
      const issues = (e.cause as { issues?: Array<{ path: PropertyKey[] }> }).issues ?? [];
      expect(
        issues.map((i) => i.path.join(".")),
        JSON.stringify(input),
      ).toContain(field);
    }
    await admin.alert.createChannel({
      clusterId,
      name: "dup",
      settings: { kind: "webhook", format: "json", url: "https://x.example/h" },
    });
    const dup = await errorOf(
      admin.alert.createChannel({
        clusterId,
        name: "dup",
        settings: { kind: "webhook", format: "json", url: "https://x.example/h" },
      }),
    );
    expect(dup.message).toBe('This cluster already has an alert channel named "dup"');
    expect(await h.db.alertChannel.count()).toBe(1);
  });

  it("an email channel keeps its password sealed; without a secret key the console says what to set", async () => {
    const admin = h.as("admin");
    const settings = {
      kind: "email" as const,
      host: "127.0.0.1",
      port: 2525,
      security: "starttls" as const,
      username: "alerts",
      password: "hunter2-smtp-pass",
      from: "gatehouse@example.org",
      to: "noc@example.org oncall@example.org",
    };
    const c = await admin.alert.createChannel({ clusterId, name: "mail", settings });
    expect(c.settings).toMatchObject({ kind: "email", to: ["noc@example.org", "oncall@example.org"] });
    expect(c.secretHint).toBe("password kept");
    const seen = JSON.stringify([c, await admin.alert.channels({ clusterId }), await h.db.auditEvent.findMany()]);
    expect(seen).not.toContain("hunter2");
    overrideAlertDeps({ secretKeyText: () => undefined });
    try {
      const e = await errorOf(admin.alert.createChannel({ clusterId, name: "mail-2", settings }));
      expect(e.code).toBe("BAD_REQUEST");
      expect(e.message).toContain("GATEHOUSE_SECRET_KEY is not set");
    } finally {
      overrideAlertDeps({ secretKeyText: () => SECRET_KEY, firstRetryMs: 1, maxRetryMs: 1 });
    }
    expect(await h.db.alertChannel.count()).toBe(1);
  });

  it("only admins add, change, test and delete channels; viewers see them", async () => {
    const c = await h.as("admin").alert.createChannel({
      clusterId,
      name: "hook",
      settings: { kind: "webhook", format: "json", url: "https://x.example/h" },
    });
    for (const role of ["viewer", "operator"] as const) {
      const caller = h.as(role);
      expect((await errorOf(caller.alert.testChannel({ id: c.id }))).code).toBe("FORBIDDEN");
      expect((await errorOf(caller.alert.deleteChannel({ id: c.id, version: c.version }))).code).toBe("FORBIDDEN");
      expect(
        (
          await errorOf(
            caller.alert.createChannel({
              clusterId,
              name: "x",
              settings: { kind: "webhook", format: "json", url: "https://x.example/h" },
            }),
          )
        ).code,
      ).toBe("FORBIDDEN");
      expect(await caller.alert.channels({ clusterId })).toHaveLength(1);
    }
  });

  it("a failing receiver shows on the channel in words; Send test reports it", async () => {
    const r = await receiver({ status: 500 });
    const admin = h.as("admin");
    const c = await admin.alert.createChannel({
      clusterId,
      name: "broken",
      settings: { kind: "webhook", format: "json", url: r.url },
    });
    const out = await admin.alert.testChannel({ id: c.id });
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/^HTTP 500 from 127\.0\.0\.1:\d+: receiver says no$/);
    const [listed] = await admin.alert.channels({ clusterId });
    expect(listed).toMatchObject({ lastOk: false, lastError: out.error });
    expect(await h.db.auditEvent.count({ where: { action: "alert.test_failed", targetId: c.id } })).toBe(1);
  });

  it("one incident, evaluated by two replicas at once and delivered by two at once, sends one message and one resolution", async () => {
    const r = await receiver();
    await h
      .as("admin")
      .alert.createChannel({ clusterId, name: "hook", settings: { kind: "webhook", format: "json", url: r.url } });
    const gw = await failingGateway();
    // on PostgreSQL a second client acts as another console replica; SQLite runs one console
    // process, so there the race is between concurrent passes of one client
    const replica = provider === "postgresql" ? createDb(databaseUrlOf(h.db) ?? "") : h.db;
    const now = new Date();
    const [a, b] = await Promise.all([evaluateAlerts(h.db, clusterId, now), evaluateAlerts(replica, clusterId, now)]);
    expect([...a.opened, ...b.opened]).toEqual([`apply_failed:${gw.id}`]);
    await Promise.all([deliverDue(h.db), deliverDue(replica), deliverDue(h.db)]);
    expect(r.bodies).toHaveLength(1);
    expect(r.bodies[0]).toMatchObject({
      version: 1,
      phase: "open",
      kind: "apply_failed",
      key: `apply_failed:${gw.id}`,
    });
    // the incident lasts: nothing more is sent
    await evaluateAlerts(h.db, clusterId);
    await deliverDue(h.db);
    expect(r.bodies).toHaveLength(1);
    // it ends: one resolution, however many replicas notice
    await h.db.gateway.update({ where: { id: gw.id }, data: { lastApplyOk: true, lastApplyError: "" } });
    await Promise.all([evaluateAlerts(h.db, clusterId), evaluateAlerts(replica, clusterId)]);
    await Promise.all([deliverDue(h.db), deliverDue(replica)]);
    expect(r.bodies.map((x) => (x as { phase: string }).phase)).toEqual(["open", "resolved"]);
    const actions = (
      await h.db.auditEvent.findMany({
        where: { action: { in: ["alert.incident_open", "alert.incident_resolved", "alert.sent", "alert.failed"] } },
        orderBy: { seq: "asc" },
      })
    ).map((e) => e.action);
    expect(actions).toEqual(["alert.incident_open", "alert.sent", "alert.incident_resolved", "alert.sent"]);
    if (replica !== h.db) await replica.$disconnect();
  });

  it("a console that has just started calls no gateway offline, nor resolves one, until it has listened for the offline time", async () => {
    const gw = await h.db.gateway.create({
      data: { clusterId, name: "gw-silent", tokenHash: "hash-silent", lastSeenAt: new Date(Date.now() - 300_000) },
      select: { id: true },
    });
    const now = new Date();
    const startedJustNow = new Date(now.getTime() - 10_000);
    const startedLongAgo = new Date(now.getTime() - 60_000);
    expect(await evaluateAlerts(h.db, clusterId, now, startedJustNow)).toEqual({ opened: [], resolved: [] });
    expect(await evaluateAlerts(h.db, clusterId, now, startedLongAgo)).toEqual({
      opened: [`gateway_offline:${gw.id}`],
      resolved: [],
    });
    // a restart while it is still silent: the incident stays open, no resolution
    expect(await evaluateAlerts(h.db, clusterId, new Date(), new Date())).toEqual({ opened: [], resolved: [] });
    expect(await h.db.alertIncident.count({ where: { openKey: { not: null } } })).toBe(1);
    await h.db.gateway.update({ where: { id: gw.id }, data: { lastSeenAt: new Date() } });
    expect((await evaluateAlerts(h.db, clusterId, new Date(), startedLongAgo)).resolved).toEqual([
      `gateway_offline:${gw.id}`,
    ]);
  });

  it("two senders racing for one message: only one claim wins", async () => {
    await h.as("admin").alert.createChannel({
      clusterId,
      name: "hook",
      settings: { kind: "webhook", format: "json", url: "https://x.example/h" },
    });
    await failingGateway();
    await evaluateAlerts(h.db, clusterId);
    const d = await h.db.alertDelivery.findFirstOrThrow({ select: { id: true, state: true, attempts: true } });
    const { claimDelivery } = await import("../../services/alerts/deliver");
    const wins = await Promise.all(Array.from({ length: 6 }, () => claimDelivery(h.db, d, new Date())));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it("retries with backoff until the receiver answers, then records one send", async () => {
    const r = await receiver({ failFirst: 2 });
    const c = await h
      .as("admin")
      .alert.createChannel({ clusterId, name: "flaky", settings: { kind: "webhook", format: "json", url: r.url } });
    await failingGateway();
    await evaluateAlerts(h.db, clusterId);
    for (let i = 0; i < 5 && r.bodies.length === 0; i++) {
      await deliverDue(h.db, new Date(Date.now() + 10));
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(r.refused).toBe(2);
    expect(r.bodies).toHaveLength(1);
    const d = await h.db.alertDelivery.findFirstOrThrow({ where: { channelId: c.id } });
    expect(d).toMatchObject({ state: "sent", attempts: 3 });
    const [listed] = await h.as("viewer").alert.channels({ clusterId });
    expect(listed?.lastOk).toBe(true);
    const history = await h.as("viewer").alert.incidents({ clusterId });
    expect(history[0]).toMatchObject({
      kind: "apply_failed",
      open: true,
      deliveries: [{ channel: "flaky", state: "sent", attempts: 3 }],
    });
  });

  it("gives up after the last attempt, says why on the channel and in the audit log", async () => {
    const r = await receiver({ status: 404 });
    const c = await h
      .as("admin")
      .alert.createChannel({ clusterId, name: "gone", settings: { kind: "webhook", format: "json", url: r.url } });
    await failingGateway();
    await evaluateAlerts(h.db, clusterId);
    for (let i = 0; i < 8; i++) {
      await deliverDue(h.db, new Date(Date.now() + 10));
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(r.refused).toBe(5);
    const d = await h.db.alertDelivery.findFirstOrThrow({ where: { channelId: c.id } });
    expect(d).toMatchObject({ state: "failed", attempts: 5, lastError: expect.stringMatching(/^HTTP 404/) });
    const failed = await h.db.auditEvent.findFirstOrThrow({ where: { action: "alert.failed" } });
    expect(JSON.parse(failed.after ?? "{}")).toMatchObject({ channel: "gone", attempts: 5 });
  });
});

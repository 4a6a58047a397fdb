import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type DraftTestStore, draftTestStore, makeTestCluster } from "../../../testkit/server/test-cluster";
import { INCIDENT_KEEP_MS, listIncidents, pruneIncidents } from "./history";
import { startAlertScheduler } from "./scheduler";

const DAY = 86_400_000;

describe.each(PROVIDERS)("alert incident retention on %s", (provider) => {
  let t: DraftTestStore;
  let clusterId = "";
  let channelId = "";
  const now = new Date("2026-12-01T12:00:00Z");
  const ago = (days: number) => new Date(now.getTime() - days * DAY);

  beforeAll(async () => {
    t = await draftTestStore(provider);
    ({ clusterId } = await makeTestCluster(t, "edge", 1));
    channelId = "ch-retention";
    await t.db.alertChannel.create({
      data: { id: channelId, clusterId, name: "hook", kind: "webhook", settings: "{}", secret: "x" },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function incident(subject: string, openedDaysAgo: number, resolvedDaysAgo: number | null, states: string[]) {
    await t.db.alertIncident.create({
      data: {
        clusterId,
        key: subject,
        kind: "isp-down",
        severity: "critical",
        subject,
        detail: "",
        openKey: resolvedDaysAgo === null ? subject : null,
        openedAt: ago(openedDaysAgo),
        resolvedAt: resolvedDaysAgo === null ? null : ago(resolvedDaysAgo),
        deliveries: {
          create: states.map((state, i) => ({ channelId, phase: i === 0 ? "open" : "resolved", state })),
        },
      },
    });
  }

  it("deletes incidents resolved longer ago than the history keeps, with their messages, and nothing else", async () => {
    expect(INCIDENT_KEEP_MS).toBe(90 * DAY);
    await incident("old and done", 120, 100, ["sent", "failed"]);
    await incident("old, a message still retrying", 120, 100, ["sent", "pending"]);
    await incident("old, a message being sent", 120, 95, ["sent", "sending"]);
    await incident("recent", 120, 10, ["sent", "sent"]);
    await incident("open for long", 200, null, ["sent"]);
    await incident("just past the limit", 91, 90.01, []);

    expect(await pruneIncidents(t.db, now)).toBe(2);
    const left = (await listIncidents(t.db, clusterId, 100)).map((i) => i.subject).sort();
    expect(left).toEqual(["old, a message being sent", "old, a message still retrying", "open for long", "recent"]);
    expect(await t.db.alertDelivery.count({ where: { channelId } })).toBe(7);
    // nothing more to prune: a second pass deletes nothing
    expect(await pruneIncidents(t.db, now)).toBe(0);
  });

  it("is done by the console's alert sweep from its first pass", async () => {
    await t.db.alertIncident.deleteMany({ where: { clusterId } });
    const resolvedAt = new Date(Date.now() - INCIDENT_KEEP_MS - DAY);
    await t.db.alertIncident.create({
      data: { clusterId, key: "gone", kind: "isp-down", severity: "critical", subject: "gone", detail: "", resolvedAt },
    });
    const scheduler = startAlertScheduler(t.db, { sweepMs: 600_000, listeningSince: new Date(0) });
    try {
      await scheduler.settle();
    } finally {
      scheduler.stop();
    }
    expect(await t.db.alertIncident.count({ where: { clusterId, key: "gone" } })).toBe(0);
  });
});

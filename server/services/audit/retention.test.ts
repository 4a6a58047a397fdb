import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META, errorOf } from "../../../testkit/server/api";
import { appendAuditEvents } from "./bulk";
import { recordAudit } from "./record";
import { pruneAudit } from "./retention";
import { verifyAuditChain } from "./verify";

const DAY = 86_400_000;
const actor = { type: "user" as const, id: "u1", name: "alice" };

async function appendAged(h: ApiHarness, n: number, daysAgo: (i: number) => number) {
  const now = Date.now();
  return appendAuditEvents(
    h.db,
    Array.from({ length: n }, (_, i) => ({
      actor,
      meta: TEST_META,
      action: "zone.update",
      clusterId: "c1",
      targetType: "zone",
      targetId: `z${i}`,
      after: { i },
      at: new Date(now - daysAgo(i) * DAY),
    })),
  );
}

describe.each(PROVIDERS)("audit retention on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is set by admins only, and setting it is audited", async () => {
    expect((await errorOf(h.as("operator").audit.retention.set({ keepDays: 30 }))).code).toBe("FORBIDDEN");
    expect((await errorOf(h.as("operator").audit.retention.prune())).code).toBe("FORBIDDEN");
    expect((await errorOf(h.as("admin").audit.retention.set({ keepDays: 0 }))).code).toBe("BAD_REQUEST");
    expect((await h.as("viewer").audit.retention.get()).keepDays).toBeNull();
    await h.as("admin").audit.retention.set({ keepDays: 30 });
    expect((await h.as("viewer").audit.retention.get()).keepDays).toBe(30);
    const ev = await h.db.auditEvent.findFirstOrThrow({
      where: { action: "audit.retention" },
      orderBy: { seq: "desc" },
    });
    expect(ev.actorName).toBe("admin");
    expect(JSON.parse(ev.before ?? "null")).toEqual({ keepDays: null });
    expect(JSON.parse(ev.after ?? "null")).toEqual({ keepDays: 30 });
  });

  it("prunes only events older than the period, in batches, and verification stays intact", async () => {
    await h.as("admin").audit.retention.set({ keepDays: 30 });
    const old = await appendAged(h, 120, (i) => 400 - i); // 400..281 days ago
    const recent = await appendAged(h, 15, (i) => 29 - i); // within the period
    if (old === null || recent === null) throw new Error("nothing appended");

    const result = await pruneAudit(h.db, actor, TEST_META, { batch: 50 });
    expect(result.throughSeq).toBe(old.lastSeq);
    const remaining = await h.db.auditEvent.findFirstOrThrow({ orderBy: { seq: "asc" }, select: { seq: true } });
    expect(remaining.seq).toBe(old.lastSeq + 1);
    expect(await h.db.auditEvent.count({ where: { seq: { gte: recent.firstSeq, lte: recent.lastSeq } } })).toBe(15);

    // the prune runs are events of their own, with the anchor they left
    const prunes = await h.db.auditEvent.findMany({ where: { action: "audit.prune" }, orderBy: { seq: "asc" } });
    expect(prunes.length).toBeGreaterThanOrEqual(3);
    const lastPrune = JSON.parse(prunes.at(-1)?.after ?? "{}") as { anchorSeq: number; anchorHash: string };
    expect(lastPrune.anchorSeq).toBe(old.lastSeq);

    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: true, anchorSeq: old.lastSeq });
    const settings = await h.as("viewer").audit.retention.get();
    expect(settings.anchorSeq).toBe(old.lastSeq);
    expect(settings.anchorHash).toBe(lastPrune.anchorHash);
    expect(settings.prunedTotal).toBeGreaterThanOrEqual(120);

    // nothing more to do: no event, no change
    const count = await h.db.auditEvent.count();
    expect((await h.as("admin").audit.retention.prune()).deleted).toBe(0);
    expect(await h.db.auditEvent.count()).toBe(count);
  });

  it("still names an altered event after a prune, and an event that no longer links to the anchor", async () => {
    const seqs = await appendAged(h, 10, () => 1);
    if (seqs === null) throw new Error("nothing appended");
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "actorName" = 'eve' WHERE "seq" = ${seqs.firstSeq + 3}`);
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: false, firstBadSeq: seqs.firstSeq + 3 });
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "actorName" = 'alice' WHERE "seq" = ${seqs.firstSeq + 3}`);

    const first = await h.db.auditEvent.findFirstOrThrow({ orderBy: { seq: "asc" } });
    await h.db.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE "seq" = ${first.seq}`);
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: false });
    if (!report.intact) expect(report.reason).toMatch(/prune anchor/);
    await h.db.auditEvent.create({ data: first });
    expect((await verifyAuditChain(h.db)).intact).toBe(true);
  });

  it("refuses to prune a run that holds an altered event, deleting nothing", async () => {
    const aged = await appendAged(h, 8, () => 90);
    if (aged === null) throw new Error("nothing appended");
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "targetId" = 'x' WHERE "seq" = ${aged.firstSeq + 2}`);
    const count = await h.db.auditEvent.count();
    const err = await errorOf(h.as("admin").audit.retention.prune());
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain(`#${aged.firstSeq + 2}`);
    expect(await h.db.auditEvent.count()).toBe(count);
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "targetId" = 'z2' WHERE "seq" = ${aged.firstSeq + 2}`);
    expect((await h.as("admin").audit.retention.prune()).deleted).toBeGreaterThanOrEqual(8);
    expect((await verifyAuditChain(h.db)).intact).toBe(true);
  });

  it("prunes while other writers append, and the chain verifies afterwards", async () => {
    await appendAged(h, 400, (i) => 200 - i / 10);
    const appends = Array.from({ length: 30 }, (_, i) =>
      h.db.$transaction((tx) =>
        recordAudit(tx, { actor, meta: TEST_META, action: "auth.login", targetType: "user", targetId: `w${i}` }),
      ),
    );
    const verifies = Array.from({ length: 3 }, () => verifyAuditChain(h.db));
    const [pruned, ...rest] = await Promise.all([
      pruneAudit(h.db, actor, TEST_META, { batch: 60 }),
      ...appends,
      ...verifies,
    ]);
    expect((pruned as { deleted: number }).deleted).toBeGreaterThanOrEqual(400);
    // verifications that ran during the prune saw an intact chain too
    for (const r of rest.slice(appends.length)) expect(r).toMatchObject({ intact: true });
    expect(await h.db.auditEvent.count({ where: { action: "auth.login", targetId: { startsWith: "w" } } })).toBe(30);
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META } from "../../../testkit/server/api";
import { appendAuditEvents } from "./bulk";
import { newEventHash } from "./chain";
import { recordAudit } from "./record";
import { verifyAuditChain } from "./verify";

const actor = { type: "user" as const, id: "u1", name: "alice" };

async function seed(h: ApiHarness, n: number) {
  const r = await appendAuditEvents(
    h.db,
    Array.from({ length: n }, (_, i) => ({
      actor,
      meta: TEST_META,
      action: "rule.update",
      clusterId: "c1",
      targetType: "rule",
      targetId: `r${i}`,
      before: { comment: `old ${i}` },
      after: { comment: `new ${i}` },
    })),
  );
  if (r === null) throw new Error("nothing appended");
  return r;
}

describe.each(PROVIDERS)("audit chain verification on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("accepts a bulk-appended chain followed by ordinary appends", async () => {
    await seed(h, 300);
    await h.db.$transaction((tx) => recordAudit(tx, { actor, meta: TEST_META, action: "auth.login" }));
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: true, anchorSeq: 0 });
    expect(report.checked).toBe(await h.db.auditEvent.count());
  });

  it("names an event whose row was altered in the database", async () => {
    const { firstSeq } = await seed(h, 50);
    const victim = firstSeq + 17;
    // straight SQL, as someone with database access would do it
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "after" = '{"comment":"forged"}' WHERE "seq" = ${victim}`);
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: false, firstBadSeq: victim, missing: false });
    if (!report.intact) expect(report.reason).toMatch(/changed after it was written/);
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "after" = '{"comment":"new 17"}' WHERE "seq" = ${victim}`);
    expect((await verifyAuditChain(h.db)).intact).toBe(true);
  });

  it("names the event after a deleted one", async () => {
    const { firstSeq } = await seed(h, 20);
    const gone = await h.db.auditEvent.findUniqueOrThrow({ where: { seq: firstSeq + 5 } });
    await h.db.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE "seq" = ${gone.seq}`);
    const gap = await verifyAuditChain(h.db);
    expect(gap).toMatchObject({ intact: false, firstBadSeq: firstSeq + 6 });
    if (!gap.intact) expect(gap.reason).toMatch(/does not link to the event before it/);
    await h.db.auditEvent.create({ data: gone });
    expect((await verifyAuditChain(h.db)).intact).toBe(true);
  });

  it("names the event after a row whose forger recomputed its hash", async () => {
    const { firstSeq } = await seed(h, 20);
    const row = await h.db.auditEvent.findUniqueOrThrow({ where: { seq: firstSeq + 10 } });
    await h.db.auditEvent.update({
      where: { seq: row.seq },
      data: { actorName: "mallory", hash: newEventHash({ ...row, actorName: "mallory" }) },
    });
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: false, firstBadSeq: firstSeq + 11 });
    await h.db.auditEvent.update({ where: { seq: row.seq }, data: { actorName: row.actorName, hash: row.hash } });
    expect((await verifyAuditChain(h.db)).intact).toBe(true);
  });
});

describe.each(PROVIDERS)("audit chain ends on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("notices deleted newest events and a rehashed newest event through the chain head", async () => {
    const { lastSeq } = await seed(h, 10);
    expect((await verifyAuditChain(h.db)).intact).toBe(true);

    const last = await h.db.auditEvent.findUniqueOrThrow({ where: { seq: lastSeq } });
    await h.db.auditEvent.update({
      where: { seq: lastSeq },
      data: { targetId: "other", hash: newEventHash({ ...last, targetId: "other" }) },
    });
    const rehashed = await verifyAuditChain(h.db);
    expect(rehashed).toMatchObject({ intact: false, firstBadSeq: lastSeq });

    await h.db.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE "seq" >= ${lastSeq - 2}`);
    const truncated = await verifyAuditChain(h.db);
    expect(truncated).toMatchObject({ intact: false, firstBadSeq: lastSeq - 2, missing: true });
    if (!truncated.intact) expect(truncated.reason).toMatch(new RegExp(`log ends at #${lastSeq}`));
  });
});

import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META } from "../../../testkit/server/api";
import { createContext } from "../../trpc/context";
import { appRouter } from "../../trpc/root";
import { appendAuditEvents } from "./bulk";
import { type ChainedFields, eventHash, GENESIS_HASH, HASH_UNKEYED } from "./chain";
import { recordAudit } from "./record";
import { verifyAuditChain } from "./verify";

/**
 * Attacks on the audit chain from outside (text no store keeps as sent) and from inside the
 * database (rewritten, re-hashed and unreadable rows).
 */

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
      after: { comment: `new ${i}` },
    })),
  );
  if (r === null) throw new Error("nothing appended");
  return r;
}

/** The chain hash as it was before it was keyed: what someone without the key can compute. */
const plainHash = (row: ChainedFields): string => eventHash({ ...row, hashVersion: HASH_UNKEYED }) as string;

/** Rewrites event `seq` and re-hashes it and every later event with `hash`, chain head included. */
async function rewriteAndRehash(
  h: ApiHarness,
  seq: number,
  change: { actorName: string },
  opts: { hashVersion?: number } = {},
) {
  const rows = await h.db.auditEvent.findMany({ where: { seq: { gte: seq } }, orderBy: { seq: "asc" } });
  let prev = (await h.db.auditEvent.findFirst({ where: { seq: { lt: seq } }, orderBy: { seq: "desc" } }))?.hash;
  prev ??= GENESIS_HASH;
  for (const row of rows) {
    const next = { ...row, ...(row.seq === seq ? change : {}), prevHash: prev };
    const hash = plainHash(next);
    await h.db.auditEvent.update({
      where: { seq: row.seq },
      data: {
        actorName: next.actorName,
        prevHash: prev,
        hash,
        ...(opts.hashVersion === undefined ? {} : { hashVersion: opts.hashVersion }),
      },
    });
    prev = hash;
  }
  const last = rows.at(-1);
  if (last) await h.db.auditChainHead.update({ where: { id: 1 }, data: { lastSeq: last.seq, lastHash: prev } });
}

/** One raw tRPC HTTP call, as a browser (or an attacker with curl) makes it. */
async function trpcPost(h: ApiHarness, path: string, body: string) {
  const req = new Request(`http://console.test/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://console.test", host: "console.test" },
    body,
  });
  const res = await fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: (opts) => createContext({ req: opts.req, resHeaders: opts.resHeaders }, h.db),
  });
  return { status: res.status, text: await res.text() };
}

describe.each(PROVIDERS)("audit chain integrity on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("refuses a sign-in with a lone surrogate as user name before it is audited, naming the field", async () => {
    const before = await h.db.auditEvent.count();
    // the JSON escape \ud800 is valid UTF-8 on the wire and a lone surrogate once parsed
    const res = await trpcPost(h, "auth.login", '{"json":{"username":"\\ud800","password":"whatever it is"}}');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/username: Text must be well-formed Unicode/);
    expect(await h.db.auditEvent.count()).toBe(before);
    // a failed sign-in with a normal name is audited, and the chain still verifies
    const wrong = await trpcPost(h, "auth.login", '{"json":{"username":"nobody","password":"whatever it is"}}');
    expect(wrong.status).toBe(401);
    expect(await h.db.auditEvent.count()).toBe(before + 1);
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });
  });

  it("stores text no store can keep as it is losslessly in its stored form, so the chain still verifies", async () => {
    await h.db.$transaction((tx) =>
      recordAudit(tx, {
        actor: { type: "user", id: "x", name: "\ud800" },
        meta: { ...TEST_META, userAgent: `${"a".repeat(399)}\u{1F525}` },
        action: "auth.login_failed",
        after: { username: "\udc00\u0000" },
      }),
    );
    const row = await h.db.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(row.actorName).toBe("\uFFFD");
    // cut at 400 through the pair: the lone half left over is stored as U+FFFD, and hashed as such
    expect(row.userAgent.endsWith("\uFFFD")).toBe(true);
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });
  });

  it("lists every altered event, not only the first", async () => {
    const { firstSeq } = await seed(h, 30);
    const a = firstSeq + 3;
    const b = firstSeq + 20;
    for (const seq of [a, b]) {
      await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "actorName" = 'mallory' WHERE "seq" = ${seq}`);
    }
    const report = await verifyAuditChain(h.db);
    expect(report.intact).toBe(false);
    if (report.intact) return;
    expect(report.problems.map((p) => p.seq)).toEqual([a, b]);
    expect(report.problemCount).toBe(2);
    expect(report.firstBadSeq).toBe(a);
    for (const seq of [a, b]) {
      await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "actorName" = 'alice' WHERE "seq" = ${seq}`);
    }
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });
  });

  it("reports a rewrite re-hashed with the unkeyed algorithm, head included, as tampering", async () => {
    const { firstSeq, lastSeq } = await seed(h, 10);
    const victim = firstSeq + 4;
    const saved = await h.db.auditEvent.findMany({ where: { seq: { gte: victim } }, orderBy: { seq: "asc" } });
    const savedHead = await h.db.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    const restore = async () => {
      for (const r of saved) {
        await h.db.auditEvent.update({ where: { seq: r.seq }, data: { hash: `tmp-${r.seq}` } });
      }
      for (const r of saved) await h.db.auditEvent.update({ where: { seq: r.seq }, data: r });
      await h.db.auditChainHead.update({ where: { id: 1 }, data: savedHead });
    };

    // as it would have passed before the chain was keyed: every link and the head agree
    await rewriteAndRehash(h, victim, { actorName: "mallory" });
    const kept = await verifyAuditChain(h.db);
    expect(kept.intact).toBe(false);
    if (!kept.intact) {
      expect(kept.firstBadSeq).toBe(victim);
      expect(kept.problems.map((p) => p.seq)).toEqual(
        Array.from({ length: lastSeq - victim + 1 }, (_, i) => victim + i),
      );
      expect(kept.reason).toMatch(/keyed hash does not match/);
    }
    await restore();
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });

    // marking the rewritten events as unkeyed ones does not help either
    await rewriteAndRehash(h, victim, { actorName: "mallory" }, { hashVersion: 1 });
    const downgraded = await verifyAuditChain(h.db);
    expect(downgraded).toMatchObject({ intact: false, firstBadSeq: victim });
    if (!downgraded.intact) expect(downgraded.reason).toMatch(/unkeyed hash although the chain is keyed/);
    const page = await h.as("viewer").audit.get({ seq: victim });
    expect(page.integrity).toMatchObject({ keyed: false, hashOk: false });
    expect(page.integrity.problem).toMatch(/unkeyed hash although the chain is keyed/);
    await restore();
    expect(await verifyAuditChain(h.db)).toMatchObject({ intact: true });
  });
});

describe.each(PROVIDERS)("a chain begun before it was keyed, on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("verifies the older unkeyed events without the key and says how many there are", async () => {
    await seed(h, 5);
    // turn them into what an older console wrote: plain SHA-256, hash version 1
    const rows = await h.db.auditEvent.findMany({ orderBy: { seq: "asc" } });
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const hash = plainHash({ ...row, prevHash: prev });
      await h.db.auditEvent.update({ where: { seq: row.seq }, data: { prevHash: prev, hash, hashVersion: 1 } });
      prev = hash;
    }
    const last = rows.at(-1);
    if (!last) throw new Error("no rows");
    await h.db.auditChainHead.update({ where: { id: 1 }, data: { lastSeq: last.seq, lastHash: prev } });
    // the keyed console goes on from there
    await h.db.$transaction((tx) => recordAudit(tx, { actor, meta: TEST_META, action: "auth.login" }));
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: true, unkeyed: { count: 5, firstSeq: rows[0]?.seq, lastSeq: last.seq } });
    const detail = await h.as("viewer").audit.get({ seq: last.seq });
    expect(detail.integrity).toMatchObject({ keyed: false, hashOk: true });
  });
});

describe("an unreadable row (SQLite)", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is named by verify and shown by the event API instead of failing", async () => {
    const { firstSeq } = await seed(h, 5);
    const victim = firstSeq + 2;
    // SQLite keeps whatever text is written into a DATETIME column
    await h.db.$executeRawUnsafe(`UPDATE "AuditEvent" SET "at" = 'not a time' WHERE "seq" = ${victim}`);
    const report = await verifyAuditChain(h.db);
    expect(report).toMatchObject({ intact: false, firstBadSeq: victim });
    if (!report.intact) {
      expect(report.problems).toHaveLength(1);
      expect(report.reason).toMatch(/cannot be read: its stored time is not a valid timestamp/);
    }
    const viewer = h.as("viewer");
    // through the API as the page calls it: an answer superjson can send, not a 500
    const detail = await viewer.audit.get({ seq: victim });
    expect(detail.event.at).toBeNull();
    expect(detail.integrity).toMatchObject({ hashOk: false, linkOk: true });
    expect(detail.integrity.problem).toMatch(/not a valid timestamp/);
    const page = await viewer.audit.list({});
    expect(page.events.find((e) => e.seq === victim)?.at).toBeNull();
    // the page gets it through superjson, which cannot send an invalid Date
    expect(() => superjson.stringify(detail)).not.toThrow();
  });
});

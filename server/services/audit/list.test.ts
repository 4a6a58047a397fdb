import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META, errorOf } from "../../../testkit/server/api";
import { appendAuditEvents, type BulkAuditInput } from "./bulk";

const alice = { type: "user" as const, id: "u-alice", name: "alice" };
const bob = { type: "user" as const, id: "u-bob", name: "bob" };
const agent = { type: "agent" as const, id: "gw-1", name: "gw-fra-1" };
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const HOUR = 3_600_000;

/** 240 events over 240 hours: a known mix of actors, actions, clusters and texts. */
function fixture(): BulkAuditInput[] {
  return Array.from({ length: 240 }, (_, i) => {
    const actor = i % 10 === 0 ? agent : i % 2 === 0 ? alice : bob;
    const action =
      actor === agent ? "gateway.apply" : i % 3 === 0 ? "rule.update" : i % 3 === 1 ? "pool.create" : "isp.failover";
    return {
      actor,
      meta: { ...TEST_META, ip: `198.51.100.${i % 50}` },
      action,
      clusterId: i % 4 === 0 ? "cl-a" : "cl-b",
      targetType: action.split(".")[0] as string,
      targetId: `t${i % 7}`,
      before: { comment: `before ${i}` },
      after: { comment: i === 77 ? "100% of 50_50 traffic \\ needle" : `after ${i}`, n: i },
      at: new Date(T0 + i * HOUR),
    };
  });
}

describe.each(PROVIDERS)("audit timeline on %s", (provider) => {
  let h: ApiHarness;
  let firstSeq = 0;
  const events = fixture();
  /** seq of fixture event i */
  const seqOf = (i: number) => firstSeq + i;
  const expectSeqs = (pred: (e: BulkAuditInput, i: number) => boolean) =>
    events
      .map((e, i) => [e, i] as const)
      .filter(([e, i]) => pred(e, i))
      .map(([, i]) => seqOf(i))
      .reverse();

  beforeAll(async () => {
    h = await apiHarness(provider);
    const r = await appendAuditEvents(h.db, events);
    firstSeq = r?.firstSeq ?? 0;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** every page of a filter, following nextBefore to the end */
  async function all(filter: Record<string, unknown>, limit = 17) {
    const seqs: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await h.as("viewer").audit.list({ ...filter, before, limit });
      expect(page.events.length).toBeLessThanOrEqual(limit);
      seqs.push(...page.events.map((e) => e.seq));
      if (page.nextBefore === undefined) return seqs;
      before = page.nextBefore;
    }
    throw new Error("paging did not end");
  }

  it("pages through everything newest first without gaps or repeats", async () => {
    const seqs = (await all({})).filter((s) => s >= firstSeq);
    expect(seqs).toEqual(expectSeqs(() => true));
  });

  it("filters by cluster, actor, actor type, action prefix, target and time", async () => {
    expect(await all({ clusterId: "cl-a" })).toEqual(expectSeqs((e) => e.clusterId === "cl-a"));
    expect(await all({ actor: "bob" })).toEqual(expectSeqs((e) => e.actor === bob));
    expect(await all({ actorType: "agent" })).toEqual(expectSeqs((e) => e.actor === agent));
    expect(await all({ action: "isp.fail" })).toEqual(expectSeqs((e) => e.action === "isp.failover"));
    expect(await all({ action: "rule." })).toEqual(expectSeqs((e) => e.action === "rule.update"));
    expect(await all({ action: "Rule.UPDATE" })).toEqual(expectSeqs((e) => e.action === "rule.update"));
    expect(await all({ targetType: "pool", targetId: "t3" })).toEqual(
      expectSeqs((e) => e.targetType === "pool" && e.targetId === "t3"),
    );
    const from = new Date(T0 + 100 * HOUR);
    const to = new Date(T0 + 120 * HOUR);
    expect(await all({ from, to, actor: "alice" })).toEqual(
      expectSeqs((e, i) => i >= 100 && i <= 120 && e.actor === alice),
    );
    expect(await all({ clusterId: "cl-b", action: "gateway.", actor: "gw-fra-1" })).toEqual(
      expectSeqs((e) => e.clusterId === "cl-b" && e.actor === agent),
    );
  });

  it("searches words anywhere in the event, case-insensitively, all words required", async () => {
    expect(await all({ q: "NEEDLE" })).toEqual([seqOf(77)]);
    expect(await all({ q: '"after 13"' })).toEqual(expectSeqs((_, i) => i === 13 || (i >= 130 && i <= 139)));
    const haystack = (e: BulkAuditInput) =>
      [
        e.actor.name,
        e.action,
        e.targetType,
        e.targetId,
        e.meta.ip,
        e.meta.userAgent,
        JSON.stringify(e.before),
        JSON.stringify(e.after),
      ].join(" ");
    const unquoted = await all({ q: "after 13" });
    expect(unquoted).toEqual(expectSeqs((e) => haystack(e).includes("after") && haystack(e).includes("13")));
    expect(unquoted.length).toBeGreaterThan(11);
    expect(await all({ q: "198.51.100.49 bob" })).toEqual(expectSeqs((e, i) => i % 50 === 49 && e.actor === bob));
    expect(await all({ q: "needle nothing-like-this" })).toEqual([]);
  });

  it("takes LIKE wildcards and SQL in filters literally", async () => {
    expect(await all({ q: "%" })).toEqual([seqOf(77)]);
    expect(await all({ q: "50_50" })).toEqual([seqOf(77)]);
    expect(await all({ q: "_" })).toEqual([seqOf(77)]);
    expect(await all({ q: "\\" })).toEqual([seqOf(77)]);
    for (const hostile of ["' OR '1'='1", '"; DROP TABLE "AuditEvent"; --', "%' --", "🚦", "a\nb", "\\%"]) {
      if (!/\s/.test(hostile)) expect(await all({ q: hostile })).toEqual([]);
      expect(await all({ actor: hostile })).toEqual([]);
      expect(await all({ action: hostile })).toEqual([]);
      expect(await all({ clusterId: hostile })).toEqual([]);
      expect(await all({ targetType: hostile.slice(0, 32) })).toEqual([]);
    }
    expect(await h.db.auditEvent.count()).toBeGreaterThanOrEqual(240);
  });

  it("refuses oversized or malformed filters with a message", async () => {
    const v = h.as("viewer");
    expect((await errorOf(v.audit.list({ q: "x".repeat(201) }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ q: "a\u0000" }))).message).toMatch(/NUL/);
    expect((await errorOf(v.audit.list({ actor: "\u0000" }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ actor: "x".repeat(65) }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ limit: 501 }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ before: -1 }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ actorType: "root" as "user" }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(v.audit.list({ from: "yesterday" as unknown as Date }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(h.as(null).audit.list({}))).code).toBe("UNAUTHORIZED");
  });

  it("treats blank filter fields as no filter", async () => {
    const page = await h.as("viewer").audit.list({ actor: "  ", q: "", action: " ", limit: 5 });
    expect(page.events).toHaveLength(5);
  });

  it("offers the actions, target types and actors the log holds", async () => {
    const facets = await h.as("viewer").audit.facets();
    expect(facets.actions).toEqual(expect.arrayContaining(["gateway.apply", "isp.failover", "pool.create"]));
    expect(facets.actions).toEqual([...facets.actions].sort());
    expect(facets.actors).toEqual(expect.arrayContaining(["alice", "bob", "gw-fra-1"]));
    expect(facets.targetTypes).toEqual(expect.arrayContaining(["gateway", "isp", "pool", "rule"]));
  });

  // runs last: it adds events the tests above do not expect
  it("finds and offers renamed actions by their current name, old rows included", async () => {
    const at = new Date(T0 + 300 * HOUR);
    const base = { actor: alice, meta: TEST_META, clusterId: "cl-a", targetType: "ssh_job", before: null, at };
    const r = await appendAuditEvents(h.db, [
      { ...base, action: "gateway.ssh_enrol", targetId: "job-old", after: { outcome: "succeeded" } },
      { ...base, action: "gateway.ssh_enroll", targetId: "job-new", after: { outcome: "succeeded" } },
    ]);
    const old = r?.firstSeq ?? 0;
    expect(await all({ action: "gateway.ssh_enroll" })).toEqual([old + 1, old]);
    expect(await all({ action: "gateway.ssh_enrol" })).toEqual([old + 1, old]);
    const facets = await h.as("viewer").audit.facets();
    expect(facets.actions).toContain("gateway.ssh_enroll");
    expect(facets.actions).not.toContain("gateway.ssh_enrol");
  });
});

import { failureOf } from "../../../testkit/server/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { AppError } from "../../errors";
import { applyBulk, moveRule, previewBulk, previewMove } from "./bulk";
import { createEntity } from "./entities";
import { listRules } from "./rules";
import {
  type DraftTestStore,
  draftTestStore,
  draftVersionOf,
  META,
  makeTestCluster,
} from "../../../testkit/server/test-cluster";

// a switch to make the audit write fail inside the transaction, after the rule rows were written
const failAudit = vi.hoisted(() => ({ on: false }));
vi.mock("../audit/record", async (importOriginal) => {
  const real = await importOriginal<typeof import("../audit/record")>();
  return {
    ...real,
    recordAudit: async (...args: Parameters<typeof real.recordAudit>) => {
      if (failAudit.on) throw new Error("audit store unavailable");
      return real.recordAudit(...args);
    },
  };
});

const rejection = (p: Promise<unknown>) => failureOf(p, AppError);

describe.each(PROVIDERS)("bulk rule changes on %s", (provider) => {
  let t: DraftTestStore;
  beforeAll(async () => {
    t = await draftTestStore(provider);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function ruleRows(clusterId: string) {
    return t.db.rule.findMany({
      where: { clusterId },
      select: { id: true, enabled: true, action: true, version: true, priority: true },
      orderBy: { seq: "asc" },
    });
  }

  it("previews exactly what a disable changes, then applies it in one go with one audit event", async () => {
    const c = await makeTestCluster(t, "bulk-disable", 4);
    const [r0, r1, r2] = c.rules as [string, string, string, string];
    const v0 = await draftVersionOf(t.db, c.clusterId);
    // r1 is already disabled: the preview says so and leaves it out
    await t.db.rule.update({ where: { id: r1 }, data: { enabled: false } });
    await t.db.cluster.update({ where: { id: c.clusterId }, data: { draftVersion: { increment: 1 } } });

    const preview = await previewBulk(t.db, {
      clusterId: c.clusterId,
      ruleIds: [r0, r1, r2, "no-such-rule"],
      operation: { op: "disable" },
    });
    expect(preview.draftVersion).toBe(v0 + 1);
    expect(preview.changeCount).toBe(2);
    expect(preview.changes.map((x) => x.ruleId)).toEqual([r0, r2]);
    expect(preview.changes[0]?.fields).toEqual([{ path: "enabled", label: "enabled", before: "yes", after: "no" }]);
    expect(preview.summary).toEqual([{ label: "enabled", before: "yes", after: "no", count: 2 }]);
    expect(preview.unchanged).toMatchObject([{ ruleId: r1, reason: "already disabled" }]);
    expect(preview.missing).toEqual(["no-such-rule"]);
    expect(preview.problems).toEqual([]);

    const before = await ruleRows(c.clusterId);
    const auditBefore = await t.db.auditEvent.count();
    const result = await applyBulk(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleIds: [r0, r1, r2],
      operation: { op: "disable" },
      draftVersion: preview.draftVersion,
    });
    expect(result).toEqual({ draftVersion: preview.draftVersion + 1, changed: 2 });
    const after = await ruleRows(c.clusterId);
    expect(after.map((r) => r.enabled)).toEqual([false, false, false, true]);
    // changed rows get a new version, untouched ones keep theirs
    expect(after.map((r, i) => r.version - (before[i]?.version ?? 0))).toEqual([1, 0, 1, 0]);
    expect(await draftVersionOf(t.db, c.clusterId)).toBe(preview.draftVersion + 1);

    const events = await t.db.auditEvent.findMany({ where: { seq: { gt: 0 } }, orderBy: { seq: "desc" }, take: 1 });
    expect(await t.db.auditEvent.count()).toBe(auditBefore + 1);
    const event = events[0];
    expect(event?.action).toBe("rule.bulk-update");
    expect(event?.actorName).toBe("op");
    expect(JSON.parse(event?.after ?? "{}")).toEqual({
      operation: { op: "disable" },
      count: 2,
      rules: [
        { id: r0, enabled: false },
        { id: r2, enabled: false },
      ],
    });
    expect(JSON.parse(event?.before ?? "{}").rules).toEqual([
      { id: r0, enabled: true },
      { id: r2, enabled: true },
    ]);
  });

  it("refuses a plan made at another draft version, and changes nothing", async () => {
    const c = await makeTestCluster(t, "bulk-stale", 2);
    const preview = await previewBulk(t.db, { clusterId: c.clusterId, ruleIds: c.rules, operation: { op: "delete" } });
    await createEntity(t.db, t.actor, META, "zone", c.clusterId, { name: "late", networks: ["100.70.0.0/16"] });
    const before = await ruleRows(c.clusterId);
    const err = await rejection(
      applyBulk(t.db, t.actor, META, {
        clusterId: c.clusterId,
        ruleIds: c.rules,
        operation: { op: "delete" },
        draftVersion: preview.draftVersion,
      }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/changed by someone else/);
    expect(await ruleRows(c.clusterId)).toEqual(before);
  });

  it("refuses a change that would break the policy, naming the problem, and changes nothing", async () => {
    const c = await makeTestCluster(t, "bulk-invalid", 3);
    const [r0] = c.rules as [string];
    // r0 falls back to pool-b; moving r0 to pool-b would make its fallback its own pool
    const row = await t.db.rule.findUniqueOrThrow({ where: { id: r0 }, select: { version: true } });
    const { updateEntity, getEntity } = await import("./entities");
    const rule = await getEntity(t.db, "rule", c.clusterId, r0);
    await updateEntity(t.db, t.actor, META, "rule", c.clusterId, r0, row.version, {
      ...rule.entity,
      fallbackPoolId: c.poolB,
    });
    const preview = await previewBulk(t.db, {
      clusterId: c.clusterId,
      ruleIds: c.rules,
      operation: { op: "setPool", poolId: c.poolB },
    });
    expect(preview.changeCount).toBe(3);
    expect(preview.problems).toHaveLength(1);
    expect(preview.problems[0]).toMatch(/fallback pool "pool-b" is the rule's own pool/);

    const before = await ruleRows(c.clusterId);
    const audit = await t.db.auditEvent.count();
    const err = await rejection(
      applyBulk(t.db, t.actor, META, {
        clusterId: c.clusterId,
        ruleIds: c.rules,
        operation: { op: "setPool", poolId: c.poolB },
        draftVersion: preview.draftVersion,
      }),
    );
    expect(err.code).toBe("INVALID");
    expect(err.message).toMatch(/^Cannot change the pool of 3 rules: rule #\d+ "rule 0": fallback pool/);
    expect(await ruleRows(c.clusterId)).toEqual(before);
    expect(await t.db.auditEvent.count()).toBe(audit);
  });

  it("rolls every row back when the transaction fails after writing them", async () => {
    const c = await makeTestCluster(t, "bulk-rollback", 3);
    const v = await draftVersionOf(t.db, c.clusterId);
    const before = await ruleRows(c.clusterId);
    failAudit.on = true;
    try {
      await expect(
        applyBulk(t.db, t.actor, META, {
          clusterId: c.clusterId,
          ruleIds: c.rules,
          operation: { op: "setAlgorithm", algorithm: "rr" },
          draftVersion: v,
        }),
      ).rejects.toThrow(/audit store unavailable/);
    } finally {
      failAudit.on = false;
    }
    expect(await ruleRows(c.clusterId)).toEqual(before);
    expect(await draftVersionOf(t.db, c.clusterId)).toBe(v);
    // and the same request succeeds once the store is back
    const ok = await applyBulk(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleIds: c.rules,
      operation: { op: "setAlgorithm", algorithm: "rr" },
      draftVersion: v,
    });
    expect(ok.changed).toBe(3);
    const after = await ruleRows(c.clusterId);
    expect(after.map((r) => JSON.parse(r.action).algorithm)).toEqual(["rr", "rr", "rr"]);
  });

  it("deletes and changes pools and algorithms across many rules with a few statements", async () => {
    const c = await makeTestCluster(t, "bulk-many", 12);
    const half = c.rules.slice(0, 6);
    let v = await draftVersionOf(t.db, c.clusterId);
    // a pool of ISP B for rules that leave through ISP A: allowed, and the warning says so elsewhere
    const moved = await applyBulk(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleIds: half,
      operation: { op: "setPool", poolId: c.poolB },
      draftVersion: v,
    });
    expect(moved.changed).toBe(6);
    v = moved.draftVersion;
    const listed = await listRules(t.db, {
      clusterId: c.clusterId,
      search: "",
      poolId: c.poolB,
      sort: "position",
      descending: false,
      offset: 0,
      limit: 100,
    });
    expect(listed.rules.map((r) => r.rule.id).sort()).toEqual([...half].sort());
    const gone = await applyBulk(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleIds: c.rules.slice(3, 9),
      operation: { op: "delete" },
      draftVersion: v,
    });
    expect(gone.changed).toBe(6);
    const left = await ruleRows(c.clusterId);
    expect(left.map((r) => r.id)).toEqual([...c.rules.slice(0, 3), ...c.rules.slice(9)]);
    const event = await t.db.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(event.action).toBe("rule.bulk-delete");
    expect(event.targetId).toBe("6 rules");
    // a deleted rule is kept whole in the event, so it can be recreated from it
    expect(JSON.parse(event.before ?? "{}").rules[0]).toMatchObject({ id: c.rules[3], comment: "rule 3" });
  });

  it("moves a rule up and down the effective order with the fewest priority changes", async () => {
    const c = await makeTestCluster(t, "bulk-move", 4);
    const order = async () =>
      (
        await listRules(t.db, {
          clusterId: c.clusterId,
          search: "",
          sort: "position",
          descending: false,
          offset: 0,
          limit: 100,
        })
      ).rules.map((r) => r.rule.id);
    const [r0, r1, r2, r3] = c.rules as [string, string, string, string];
    expect(await order()).toEqual([r0, r1, r2, r3]);

    // no rule has a priority: the last rule can only reach the top by pinning itself alone there
    const preview = await previewMove(t.db, { clusterId: c.clusterId, ruleId: r3, toPosition: 1 });
    expect(preview.changeCount).toBe(1);
    expect(preview.changes[0]?.fields).toEqual([
      { path: "priority", label: "priority", before: "automatic (by specificity)", after: "9" },
    ]);
    let v = await draftVersionOf(t.db, c.clusterId);
    const up = await moveRule(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleId: r3,
      toPosition: 1,
      draftVersion: v,
    });
    expect(up.note).toBe("");
    expect(await order()).toEqual([r3, r0, r1, r2]);

    // r2 between r0 and r1: r0 has no priority, so only pinning the rules above it keeps them in order
    v = up.draftVersion;
    const mid = await moveRule(t.db, t.actor, META, {
      clusterId: c.clusterId,
      ruleId: r2,
      toPosition: 3,
      draftVersion: v,
    });
    expect(await order()).toEqual([r3, r0, r2, r1]);
    const rows = await ruleRows(c.clusterId);
    const prio = new Map(rows.map((r) => [r.id, r.priority]));
    expect([r3, r0, r2, r1].map((id) => prio.get(id))).toEqual([10, 20, 30, 40]);
    expect(mid.note).toBe(" (also sets the priority of 3 other rules to keep their order)");
    const event = await t.db.auditEvent.findFirstOrThrow({ orderBy: { seq: "desc" } });
    expect(event.action).toBe("rule.move");
    expect(event.targetId).toBe(r2);
    expect(JSON.parse(event.after ?? "{}")).toMatchObject({ toPosition: 3, count: 4 });

    // then a move into a gap changes only the moved rule
    const gap = await previewMove(t.db, { clusterId: c.clusterId, ruleId: r1, toPosition: 1 });
    expect(gap.changes.map((x) => [x.ruleId, x.fields[0]?.after])).toEqual([[r1, "9"]]);

    // a stale move changes nothing
    const err = await rejection(
      moveRule(t.db, t.actor, META, { clusterId: c.clusterId, ruleId: r1, toPosition: 1, draftVersion: v }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(await order()).toEqual([r3, r0, r2, r1]);
  });
});

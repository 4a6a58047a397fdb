import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generatePolicy } from "../../testkit/policy-fixtures";
import { MAX_PRIORITY, type Policy } from "./model";
import { orderRules } from "./order";
import { newProblems, planBulk, planMove, planPriorities, positionsOf, previewChange } from "./bulk-plan";
import { nameLookup } from "./change-text";

const withPriorities = (policy: Policy, p: ReadonlyMap<string, number | null>): Policy => ({
  ...policy,
  rules: policy.rules.map((r) => (p.has(r.id) ? { ...r, priority: p.get(r.id) ?? null } : r)),
});

const ids = (policy: Policy) => orderRules(policy).map((r) => r.rule.id);

describe("planBulk", () => {
  const policy = generatePolicy({ rules: 30, seed: 7 });
  const positions = positionsOf(policy);

  it("changes only what the operation changes and says why the others stay", () => {
    const some = policy.rules.slice(0, 10).map((r) => r.id);
    const plan = planBulk(policy, positions, [...some, some[0] as string, "ghost"], { op: "disable" });
    const wasEnabled = policy.rules.slice(0, 10).filter((r) => r.enabled);
    expect(plan.changes.map((c) => c.ruleId).sort()).toEqual(wasEnabled.map((r) => r.id).sort());
    expect(plan.changes.every((c) => c.after?.enabled === false)).toBe(true);
    expect(plan.unchanged.every((u) => u.reason === "already disabled")).toBe(true);
    expect(plan.changes.length + plan.unchanged.length).toBe(10);
    expect(plan.missing).toEqual(["ghost"]);
    // listed in table order
    const shown = plan.changes.map((c) => c.position);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    // the input policy is left alone
    expect(policy.rules.slice(0, 10).filter((r) => r.enabled)).toHaveLength(wasEnabled.length);
  });

  it("changes the pool and algorithm of SNAT rules only", () => {
    const all = policy.rules.map((r) => r.id);
    const pool = policy.pools[1]?.id as string;
    const plan = planBulk(policy, positions, all, { op: "setPool", poolId: pool });
    for (const c of plan.changes) {
      expect(c.before.action.type).toBe("snat");
      expect(c.after?.action).toEqual({ ...c.before.action, poolId: pool });
    }
    expect(plan.unchanged.length).toBeGreaterThan(0);
    for (const u of plan.unchanged) {
      expect(u.reason).toMatch(/^(already uses pool "[^"]+"|drops: it has no pool|excludes from NAT: it has no pool)$/);
    }
    const alg = planBulk(policy, positions, all, { op: "setAlgorithm", algorithm: "rr" });
    expect(alg.changes.every((c) => c.after?.action.type === "snat" && c.after.action.algorithm === "rr")).toBe(true);
  });

  it("deletes rules from the resulting policy and reports new problems only", () => {
    const gone = policy.rules.slice(0, 3).map((r) => r.id);
    const plan = planBulk(policy, positions, gone, { op: "delete" });
    expect(plan.after.rules.map((r) => r.id)).toEqual(policy.rules.slice(3).map((r) => r.id));
    expect(newProblems([], plan.after)).toEqual([]);

    // a rule whose fallback pool becomes its own pool is a problem the draft did not have
    const rule = policy.rules.find((r) => r.action.type === "snat") as Policy["rules"][number];
    const own = rule.action.type === "snat" ? rule.action.poolId : "";
    const other = policy.pools.find((p) => p.id !== own)?.id as string;
    const p2 = { ...policy, rules: policy.rules.map((r) => (r.id === rule.id ? { ...r, fallbackPoolId: other } : r)) };
    const bad = planBulk(p2, positionsOf(p2), [rule.id], { op: "setPool", poolId: other });
    expect(newProblems([], bad.after)).toEqual([expect.stringMatching(/is the rule's own pool/)]);
  });

  it("previews a change field by field with names instead of ids", () => {
    const rule = policy.rules.find((r) => r.action.type === "snat") as Policy["rules"][number];
    const target = policy.pools.find((p) => rule.action.type === "snat" && p.id !== rule.action.poolId);
    const plan = planBulk(policy, positions, [rule.id], { op: "setPool", poolId: target?.id as string });
    const preview = previewChange(plan.changes[0] as (typeof plan.changes)[number], nameLookup(policy));
    expect(preview.fields).toEqual([
      {
        path: "action.poolId",
        label: "SNAT pool",
        before: `pool "${policy.pools.find((p) => rule.action.type === "snat" && p.id === rule.action.poolId)?.name}"`,
        after: `pool "${target?.name}"`,
      },
    ]);
  });
});

describe("planMove", () => {
  it("puts the rule at the wanted place and keeps every other rule's relative order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (seed, pick, target, presorted) => {
          let policy = generatePolicy({ rules: 25, seed, overlapping: true });
          if (presorted) {
            // a policy someone already pinned, with ties and gaps
            policy = withPriorities(policy, new Map(policy.rules.map((r, i) => [r.id, i % 3 === 0 ? i * 2 : null])));
          }
          const before = ids(policy);
          const moved = before[pick % before.length] as string;
          const to = (target % before.length) + 1;
          const changes = planMove(policy, moved, to);
          const after = ids(withPriorities(policy, changes));
          const expected = before.filter((id) => id !== moved);
          expected.splice(to - 1, 0, moved);
          expect(after).toEqual(expected);
          for (const p of changes.values()) {
            expect(p === null || (p >= 0 && p <= MAX_PRIORITY && Number.isInteger(p))).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("changes only the moved rule when its new neighbours leave a gap", () => {
    const policy = generatePolicy({ rules: 10, seed: 3 });
    const pinned = withPriorities(policy, new Map(policy.rules.map((r, i) => [r.id, (i + 1) * 100])));
    const order = ids(pinned);
    const last = order[order.length - 1] as string;
    const changes = planMove(pinned, last, 1);
    expect([...changes.keys()]).toEqual([last]);
    expect(ids(withPriorities(pinned, changes))[0]).toBe(last);
    expect(planMove(pinned, last, order.length).size).toBe(0);
  });

  it("sets priorities through planPriorities as ordinary rule changes", () => {
    const policy = generatePolicy({ rules: 5, seed: 9 });
    const order = ids(policy);
    const changes = planMove(policy, order[4] as string, 2);
    const plan = planPriorities(policy, positionsOf(policy), changes);
    expect(plan.changes.map((c) => c.ruleId).sort()).toEqual([...changes.keys()].sort());
    expect(ids(plan.after)[1]).toBe(order[4]);
  });
});

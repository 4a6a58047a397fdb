import { z } from "zod";
import { diffPolicies } from "./diff";
import { MAX_PRIORITY, type Policy, type Rule, zAlgorithm, zId } from "./model";
import { orderRules } from "./order";
import { describeIssue, type PolicyIssue, validatePolicy } from "./validate";
import { type FieldText, fieldTexts, type NameLookup } from "./change-text";
import { describeEntity } from "./entities";
import { standaloneHa } from "./ha";

/**
 * Pure planning of changes to many rules at once: what a bulk operation or a move in the rule
 * order does to each rule, and which problems the result would have. The service previews a
 * plan and applies exactly the plan it previewed.
 */

export const zBulkOperation = z.discriminatedUnion("op", [
  z.object({ op: z.literal("enable") }),
  z.object({ op: z.literal("disable") }),
  z.object({ op: z.literal("delete") }),
  z.object({ op: z.literal("setPool"), poolId: zId }),
  z.object({ op: z.literal("setAlgorithm"), algorithm: zAlgorithm }),
]);
export type BulkOperation = z.infer<typeof zBulkOperation>;

export interface PlannedChange {
  ruleId: string;
  /** place in the rules table before the change */
  position: number;
  title: string;
  change: "changed" | "removed";
  before: Rule;
  after: Rule | null;
}

export interface Unchanged {
  ruleId: string;
  position: number;
  title: string;
  reason: string;
}

export interface RulePlan {
  changes: PlannedChange[];
  unchanged: Unchanged[];
  /** requested ids that are not rules of the draft */
  missing: string[];
  after: Policy;
}

export function positionsOf(policy: Policy): Map<string, number> {
  return new Map(orderRules(policy).map((r) => [r.rule.id, r.position]));
}

/** Applies `edit` to each rule; null from `edit` deletes the rule, a string means "unchanged, because". */
function plan(
  policy: Policy,
  positions: ReadonlyMap<string, number>,
  ruleIds: readonly string[],
  edit: (rule: Rule) => Rule | null | string,
): RulePlan {
  const byId = new Map(policy.rules.map((r) => [r.id, r]));
  const changes: PlannedChange[] = [];
  const unchanged: Unchanged[] = [];
  const missing: string[] = [];
  const replaced = new Map<string, Rule | null>();
  for (const id of new Set(ruleIds)) {
    const rule = byId.get(id);
    if (rule === undefined) {
      missing.push(id);
      continue;
    }
    const position = positions.get(id) ?? 0;
    const title = describeEntity("rule", rule, policy);
    const result = edit(rule);
    if (typeof result === "string") {
      unchanged.push({ ruleId: id, position, title, reason: result });
      continue;
    }
    replaced.set(id, result);
    changes.push({
      ruleId: id,
      position,
      title,
      change: result === null ? "removed" : "changed",
      before: rule,
      after: result,
    });
  }
  const byPosition = (a: { position: number }, b: { position: number }) => a.position - b.position;
  changes.sort(byPosition);
  unchanged.sort(byPosition);
  const rules: Rule[] = [];
  for (const r of policy.rules) {
    const next = replaced.has(r.id) ? replaced.get(r.id) : r;
    if (next) rules.push(next);
  }
  return { changes, unchanged, missing, after: { ...policy, rules } };
}

export function planBulk(
  policy: Policy,
  positions: ReadonlyMap<string, number>,
  ruleIds: readonly string[],
  op: BulkOperation,
): RulePlan {
  const poolName = (id: string) => policy.pools.find((p) => p.id === id)?.name ?? id;
  return plan(policy, positions, ruleIds, (rule) => {
    switch (op.op) {
      case "enable":
        return rule.enabled ? "already enabled" : { ...rule, enabled: true };
      case "disable":
        return rule.enabled ? { ...rule, enabled: false } : "already disabled";
      case "delete":
        return null;
      case "setPool":
        if (rule.action.type !== "snat")
          return `${rule.action.type === "drop" ? "drops" : "excludes from NAT"}: it has no pool`;
        if (rule.action.poolId === op.poolId) return `already uses pool "${poolName(op.poolId)}"`;
        return { ...rule, action: { ...rule.action, poolId: op.poolId } };
      case "setAlgorithm":
        if (rule.action.type !== "snat")
          return `${rule.action.type === "drop" ? "drops" : "excludes from NAT"}: it has no algorithm`;
        if (rule.action.algorithm === op.algorithm) return "already uses this algorithm";
        return { ...rule, action: { ...rule.action, algorithm: op.algorithm } };
    }
  });
}

/** Sets explicit priorities (null: automatic) on the given rules. */
export function planPriorities(
  policy: Policy,
  positions: ReadonlyMap<string, number>,
  priorities: ReadonlyMap<string, number | null>,
): RulePlan {
  return plan(policy, positions, [...priorities.keys()], (rule) => {
    const p = priorities.get(rule.id) ?? null;
    return rule.priority === p ? "priority unchanged" : { ...rule, priority: p };
  });
}

// ---------------------------------------------------------------------------------------------
// moving a rule in the effective order

/**
 * The priorities that put one rule at `toPosition` (1-based) and keep every other rule in its
 * current relative order. Rules without a priority come after all rules with one, ordered by
 * specificity, so a rule can only be placed exactly by pinning the rules ahead of it too:
 *
 * - when the rule's new neighbours leave a gap in their priorities, only the moved rule changes;
 * - otherwise the rules from the top down to the lowest place involved are renumbered 10, 20,
 *   30... (closer when there are very many), which leaves gaps for later moves.
 *
 * Each candidate is checked against the real order, so a move never lands anywhere unexpected.
 */
export function planMove(policy: Policy, ruleId: string, toPosition: number): Map<string, number | null> {
  const order = orderRules(policy).map((r) => r.rule);
  const from = order.findIndex((r) => r.id === ruleId);
  if (from === -1) throw new Error(`rule ${ruleId} is not in the policy`);
  const to = Math.min(Math.max(Math.trunc(toPosition) - 1, 0), order.length - 1);
  if (from === to) return new Map();
  const moved = order[from] as Rule;
  const wanted = order.filter((r) => r.id !== ruleId);
  wanted.splice(to, 0, moved);

  const achieves = (changes: ReadonlyMap<string, number | null>) => {
    const rules = policy.rules.map((r) => (changes.has(r.id) ? { ...r, priority: changes.get(r.id) ?? null } : r));
    const got = orderRules({ ...policy, rules });
    return got.every((r, i) => r.rule.id === wanted[i]?.id);
  };

  const prev = wanted[to - 1];
  const next = wanted[to + 1];
  if (prev === undefined || prev.priority !== null) {
    const lo = prev?.priority ?? -1;
    const hi = next === undefined || next.priority === null ? MAX_PRIORITY + 1 : next.priority;
    const candidates = [lo + 10, Math.floor((lo + hi) / 2), lo + 1].filter((x) => x > lo && x < hi && x >= 0);
    for (const x of candidates) {
      const single = new Map([[ruleId, x]]);
      if (x <= MAX_PRIORITY && achieves(single)) return single;
    }
  }

  const pinnedCount = order.reduce((n, r) => (r.priority !== null ? n + 1 : n), 0);
  const count = Math.max(from, to, pinnedCount - 1) + 1;
  const step = Math.max(1, Math.min(10, Math.floor(MAX_PRIORITY / (count + 1))));
  const changes = new Map<string, number | null>();
  wanted.slice(0, count).forEach((r, i) => {
    const p = (i + 1) * step;
    if (r.priority !== p) changes.set(r.id, p);
  });
  if (!achieves(changes)) {
    throw new Error("no priorities put the rule there while keeping the others in order");
  }
  return changes;
}

// ---------------------------------------------------------------------------------------------

const issueKey = (i: PolicyIssue) => `${i.entity}|${i.id}|${i.path.join(".")}|${i.message}`;

/** Problems `after` has that the draft did not have before, each as one line. */
export function newProblems(before: readonly PolicyIssue[], after: Policy): string[] {
  const old = new Set(before.map(issueKey));
  return validatePolicy(after)
    .filter((i) => !old.has(issueKey(i)))
    .map((i) => describeIssue(after, i));
}

export interface ChangePreview {
  ruleId: string;
  position: number;
  title: string;
  change: "changed" | "removed";
  fields: FieldText[];
}

/** A planned change in words: each changed field, before and after. */
export function previewChange(c: PlannedChange, names: NameLookup): ChangePreview {
  // the policy diff compares one rule here: the same field paths and labels as the change list
  const settings: Policy["settings"] = {
    unmatched: "drop",
    hashSeed: 0,
    lanInterfaces: [],
    internalInterfaces: [],
    ha: standaloneHa(),
    gateways: [],
  };
  const only = (rules: Rule[]): Policy => ({ settings, isps: [], pools: [], zones: [], rules });
  const diff = diffPolicies(only([c.before]), only(c.after ? [c.after] : []));
  const fields = c.after === null ? [] : fieldTexts("rule", diff.rules[0]?.fields ?? [], names);
  return { ruleId: c.ruleId, position: c.position, title: c.title, change: c.change, fields };
}

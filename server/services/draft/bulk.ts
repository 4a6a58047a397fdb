import { z } from "zod";
import { rulePlace } from "../../../core/policy/rule-name";
import { claimDraftVersion } from "./claim";
import type { Db, Tx } from "../../db";
import { conflict, invalid, notFound, staleVersion } from "../../errors";
import { type Rule, zId } from "../../../core/policy/model";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import {
  newProblems,
  type PlannedChange,
  planBulk,
  planMove,
  planPriorities,
  previewChange,
  type RulePlan,
  zBulkOperation,
} from "../../../core/policy/bulk-plan";
import { nameLookup } from "../../../core/policy/change-text";
import { ruleToData } from "./rows";
import { type DraftSnapshot, draftSnapshot } from "./snapshot";

/**
 * Changes to many rules at once (enable, disable, delete, change pool or algorithm, and moves in
 * the rule order). A preview shows exactly what a plan changes at one draft version; applying it
 * names that version, so what is applied is what was previewed. All changes commit in one
 * transaction after one validation of the whole resulting draft, together with their audit
 * event, or nothing changes.
 */

export const MAX_BULK_RULES = 20_000;

export const zBulkInput = z.object({
  clusterId: zId,
  ruleIds: z.array(zId).min(1, "select at least one rule").max(MAX_BULK_RULES),
  operation: zBulkOperation,
});
export type BulkInput = z.infer<typeof zBulkInput>;

export const zBulkApplyInput = zBulkInput.extend({ draftVersion: z.number().int().min(1) });
export type BulkApplyInput = z.infer<typeof zBulkApplyInput>;

export const zMoveInput = z.object({
  clusterId: zId,
  ruleId: zId,
  toPosition: z.number().int().min(1),
  draftVersion: z.number().int().min(1),
});
export type MoveInput = z.infer<typeof zMoveInput>;

/** How many changed and unchanged rules a preview lists one by one; the totals are always exact. */
export const PREVIEW_LIST_MAX = 500;

const positionsOf = (snap: DraftSnapshot) => new Map(snap.ordered().map((r) => [r.rule.id, r.position]));

function bulkPlan(snap: DraftSnapshot, input: BulkInput): RulePlan {
  const op = input.operation;
  if (op.op === "setPool" && !snap.policy.pools.some((p) => p.id === op.poolId)) {
    throw invalid(`Pool ${op.poolId} does not exist in this cluster`, [
      { path: ["operation", "poolId"], message: "is not a pool of this cluster" },
    ]);
  }
  return planBulk(snap.policy, positionsOf(snap), input.ruleIds, op);
}

function moveMessage(changes: readonly PlannedChange[], moved: string) {
  const others = changes.filter((c) => c.ruleId !== moved).length;
  return others === 0
    ? ""
    : ` (also sets the priority of ${others} other rule${others === 1 ? "" : "s"} to keep their order)`;
}

function movePlan(snap: DraftSnapshot, input: Pick<MoveInput, "ruleId" | "toPosition">): RulePlan {
  if (!snap.policy.rules.some((r) => r.id === input.ruleId)) throw notFound(`Rule ${input.ruleId}`);
  const priorities = planMove(snap.policy, input.ruleId, input.toPosition);
  return planPriorities(snap.policy, positionsOf(snap), priorities);
}

function describePlan(snap: DraftSnapshot, plan: RulePlan) {
  const names = nameLookup(snap.policy);
  const previews = plan.changes.slice(0, PREVIEW_LIST_MAX).map((c) => previewChange(c, names));
  // the same field change on many rules is summarised once: "enabled: yes -> no on 9,800 rules"
  const summary = new Map<string, { label: string; before: string; after: string; count: number }>();
  for (const c of plan.changes) {
    const fields =
      c.after === null ? [{ label: "rule", before: "exists", after: "deleted" }] : previewChange(c, names).fields;
    for (const f of fields) {
      const key = `${f.label}\u0000${f.before}\u0000${f.after}`;
      const s = summary.get(key);
      if (s) s.count++;
      else summary.set(key, { label: f.label, before: f.before, after: f.after, count: 1 });
    }
  }
  return {
    draftVersion: snap.draftVersion,
    changeCount: plan.changes.length,
    changes: previews,
    summary: [...summary.values()].sort((a, b) => b.count - a.count),
    unchangedCount: plan.unchanged.length,
    unchanged: plan.unchanged.slice(0, PREVIEW_LIST_MAX),
    missing: plan.missing,
    problems: newProblems(snap.issues(), plan.after),
  };
}

export type BulkPreview = ReturnType<typeof describePlan>;

/** What a bulk operation would change in the draft as it is now, and what would stop it. */
export async function previewBulk(db: Db, input: BulkInput): Promise<BulkPreview> {
  const snap = await draftSnapshot(db, input.clusterId);
  return describePlan(snap, bulkPlan(snap, input));
}

export async function previewMove(db: Db, input: Pick<MoveInput, "clusterId" | "ruleId" | "toPosition">) {
  const snap = await draftSnapshot(db, input.clusterId);
  return describePlan(snap, movePlan(snap, input));
}

/** How a plan is recorded: the action, the rule it is about (moves) and what was asked for. */
interface AuditShape {
  action: string;
  targetId?: string;
  request: Record<string, unknown>;
}

/** Only the fields a change touched, on both sides, so a bulk event stays small. */
function changedFields(before: Rule, after: Rule) {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of Object.keys(after) as (keyof Rule)[]) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) {
      b[k] = before[k];
      a[k] = after[k];
    }
  }
  return { b, a };
}

/**
 * One audit event for the whole operation: it commits or fails as one, and a change to 10,000
 * rules stays one line of the audit log. The event lists every rule with the fields that changed
 * (a deleted rule in full), so each rule's change can still be read and undone from it.
 */
function auditOf(plan: RulePlan, shape: AuditShape) {
  const before: unknown[] = [];
  const after: unknown[] = [];
  for (const c of plan.changes) {
    if (c.after === null) {
      before.push(c.before);
      after.push({ id: c.ruleId, deleted: true });
    } else {
      const { b, a } = changedFields(c.before, c.after);
      before.push({ id: c.ruleId, ...b });
      after.push({ id: c.ruleId, ...a });
    }
  }
  const n = plan.changes.length;
  return {
    action: shape.action,
    targetType: "rule",
    targetId: shape.targetId ?? (n === 1 ? (plan.changes[0]?.ruleId ?? "") : `${n} rules`),
    before: { rules: before },
    after: { ...shape.request, count: n, rules: after },
  };
}

const CHUNK = 500;

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/** Writes a plan's rows: one statement for every group of rules whose changed columns get the same values. */
async function writePlan(tx: Tx, clusterId: string, plan: RulePlan) {
  const removed = plan.changes.filter((c) => c.after === null).map((c) => c.ruleId);
  for (const ids of chunks(removed)) await tx.rule.deleteMany({ where: { clusterId, id: { in: ids } } });

  const groups = new Map<string, { data: Record<string, unknown>; ids: string[] }>();
  for (const c of plan.changes) {
    if (c.after === null) continue;
    const before = ruleToData(c.before) as Record<string, unknown>;
    const after = ruleToData(c.after) as Record<string, unknown>;
    const data: Record<string, unknown> = {};
    for (const k of Object.keys(after)) if (after[k] !== before[k]) data[k] = after[k];
    const key = JSON.stringify(data);
    const g = groups.get(key);
    if (g) g.ids.push(c.ruleId);
    else groups.set(key, { data, ids: [c.ruleId] });
  }
  for (const { data, ids } of groups.values()) {
    for (const part of chunks(ids)) {
      await tx.rule.updateMany({
        where: { clusterId, id: { in: part } },
        data: { ...data, version: { increment: 1 } },
      });
    }
  }
}

async function applyPlan(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  draftVersion: number,
  makePlan: (snap: DraftSnapshot) => RulePlan,
  what: string,
  audit: AuditShape,
) {
  const snap = await draftSnapshot(db, clusterId);
  if (snap.draftVersion !== draftVersion) throw staleVersion("The draft");
  const plan = makePlan(snap);
  if (plan.missing.length > 0) {
    throw conflict(`${plan.missing.length} of the selected rules no longer exist; reload and select again`);
  }
  if (plan.changes.length === 0) throw conflict(`Nothing to change: ${what} leaves every selected rule as it is`);
  const problems = newProblems(snap.issues(), plan.after);
  if (problems.length > 0) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : "";
    throw invalid(`Cannot ${what}: ${problems.slice(0, 5).join("; ")}${more}`);
  }
  const result = await db.$transaction(
    async (tx) => {
      await claimDraftVersion(tx, clusterId, draftVersion);
      await writePlan(tx, clusterId, plan);
      await recordAudit(tx, { actor, meta, clusterId, ...auditOf(plan, audit) });
      return { draftVersion: draftVersion + 1, changed: plan.changes.length };
    },
    { timeout: 120_000, maxWait: 20_000 },
  );
  return result;
}

export async function applyBulk(db: Db, actor: Actor, meta: RequestMeta, input: BulkApplyInput) {
  const verb = {
    enable: "enable",
    disable: "disable",
    delete: "delete",
    setPool: "change the pool of",
    setAlgorithm: "change the algorithm of",
  }[input.operation.op];
  return applyPlan(
    db,
    actor,
    meta,
    input.clusterId,
    input.draftVersion,
    (snap) => bulkPlan(snap, input),
    `${verb} ${input.ruleIds.length} rule${input.ruleIds.length === 1 ? "" : "s"}`,
    {
      action: input.operation.op === "delete" ? "rule.bulk-delete" : "rule.bulk-update",
      request: { operation: input.operation },
    },
  );
}

/** Puts one rule at a place in the effective order by setting priorities (see planMove). */
export async function moveRule(db: Db, actor: Actor, meta: RequestMeta, input: MoveInput) {
  let note = "";
  const result = await applyPlan(
    db,
    actor,
    meta,
    input.clusterId,
    input.draftVersion,
    (snap) => {
      const plan = movePlan(snap, input);
      note = moveMessage(plan.changes, input.ruleId);
      return plan;
    },
    `move the rule to ${rulePlace(input.toPosition)}`,
    { action: "rule.move", targetId: input.ruleId, request: { toPosition: input.toPosition } },
  );
  return { ...result, note };
}

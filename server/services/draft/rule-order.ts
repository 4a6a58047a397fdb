import { z } from "zod";
import { claimDraftVersion } from "./claim";
import type { Db } from "../../db";
import { conflict, staleVersion } from "../../errors";
import { type ClusterSettings, type RuleOrderMode, zId, zRuleOrderMode } from "../../../core/policy/model";
import { orderModeChanges, orderModeOf } from "../../../core/policy/order";
import { ruleName } from "../../../core/policy/rule-name";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { PREVIEW_LIST_MAX } from "./bulk";
import { draftSnapshot } from "./snapshot";

/**
 * The cluster's rule ordering mode (docs/semantics.md "Rule order"): a cluster setting kept in the
 * draft, so it is published, diffed and audited like the rest of the policy. Switching is
 * previewed (the rules whose place changes) and applied at the draft version the preview showed.
 */

export const zOrderModeInput = z.object({ clusterId: zId, mode: zRuleOrderMode });
export const zSetOrderModeInput = zOrderModeInput.extend({ draftVersion: z.number().int().min(1) });

/** Absent means most specific first: switching back removes the setting, so the draft matches older revisions. */
function withMode(settings: ClusterSettings, mode: RuleOrderMode): ClusterSettings {
  const { ruleOrder: _, ...rest } = settings;
  return mode === "list" ? { ...rest, ruleOrder: "list" } : rest;
}

export async function previewOrderMode(db: Db, input: z.infer<typeof zOrderModeInput>) {
  const snap = await draftSnapshot(db, input.clusterId);
  const changes = orderModeChanges(snap.policy, input.mode);
  return {
    draftVersion: snap.draftVersion,
    current: orderModeOf(snap.policy),
    mode: input.mode,
    ruleCount: snap.policy.rules.length,
    changeCount: changes.length,
    changes: changes.slice(0, PREVIEW_LIST_MAX).map((c) => ({
      ruleId: c.ruleId,
      from: c.from,
      to: c.to,
      name: ruleName(c.from, c.rule),
      newName: ruleName(c.to, c.rule),
    })),
  };
}

export async function setOrderMode(db: Db, actor: Actor, meta: RequestMeta, input: z.infer<typeof zSetOrderModeInput>) {
  const snap = await draftSnapshot(db, input.clusterId);
  if (snap.draftVersion !== input.draftVersion) throw staleVersion("The draft");
  const before = orderModeOf(snap.policy);
  if (before === input.mode)
    throw conflict(`Rules already apply ${input.mode === "list" ? "in the order listed" : "most specific first"}`);
  const moved = orderModeChanges(snap.policy, input.mode).length;
  const settings = withMode(snap.policy.settings, input.mode);
  return db.$transaction(async (tx) => {
    await claimDraftVersion(tx, input.clusterId, input.draftVersion);
    await tx.cluster.update({ where: { id: input.clusterId }, data: { settings: JSON.stringify(settings) } });
    await recordAudit(tx, {
      actor,
      meta,
      action: "cluster.rule_order",
      clusterId: input.clusterId,
      targetType: "cluster",
      targetId: input.clusterId,
      before: { ruleOrder: before },
      after: { ruleOrder: input.mode, rulesMoved: moved },
    });
    return { draftVersion: input.draftVersion + 1, mode: input.mode, rulesMoved: moved };
  });
}

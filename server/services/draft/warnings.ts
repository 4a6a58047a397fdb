import type { Db } from "../../db";
import { type PolicyWarning, sliceWarnings, type WarningCode } from "../../../core/policy/warnings";
import { draftSnapshot } from "./snapshot";
import { describeEntity, LIST_KEY, type PolicyEntity } from "../../../core/policy/entities";

/**
 * The draft's warnings (core/policy/warnings.ts), each with the name of what it is about and,
 * for rules, their place in the rules table, so pages can show them next to the thing and in a list.
 */

export interface DraftWarning extends PolicyWarning {
  /** e.g. `pool "telia-a"` or `rule #12 "office"` */
  title: string;
  /** the rule's place in the rules table; null for other entities */
  position: number | null;
}

export async function draftWarnings(db: Db, clusterId: string) {
  const [snap, gateways] = await Promise.all([
    draftSnapshot(db, clusterId),
    db.gateway.findMany({ where: { clusterId }, select: { id: true } }),
  ]);
  const positions = new Map(snap.ordered().map((r) => [r.rule.id, r.position]));
  const all = [
    ...snap.warnings(),
    ...sliceWarnings(
      snap.policy,
      gateways.map((g) => g.id),
    ),
  ];
  const warnings: DraftWarning[] = all.map((w) => {
    let title = "settings";
    if (w.entity !== "settings") {
      const e = (snap.policy[LIST_KEY[w.entity]] as PolicyEntity[]).find((x) => x.id === w.id);
      title = e ? describeEntity(w.entity, e, snap.policy) : `${w.entity} ${w.id ?? ""}`;
    }
    return { ...w, title, position: w.entity === "rule" && w.id ? (positions.get(w.id) ?? null) : null };
  });
  // rules in table order after everything else: the list reads top-down like the pages
  const rank = { isp: 0, pool: 1, zone: 2, settings: 3, rule: 4 } as const;
  warnings.sort((a, b) => rank[a.entity] - rank[b.entity] || (a.position ?? 0) - (b.position ?? 0));
  const counts: Partial<Record<WarningCode, number>> = {};
  for (const w of warnings) counts[w.code] = (counts[w.code] ?? 0) + 1;
  return { draftVersion: snap.draftVersion, warnings, counts };
}

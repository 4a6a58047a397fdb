import { z } from "zod";
import type { Db, Tx } from "../../db";
import type { Policy, Rule } from "../../policy/model";
import { orderRules } from "../../policy/order";
import { getClusterOrThrow } from "../clusters/clusters";
import { loadDraftPolicy } from "./rows";

export const zRuleListInput = z.object({
  clusterId: z.string().min(1).max(64),
  search: z.string().trim().max(100).default(""),
  enabled: z.boolean().optional(),
  action: z.enum(["snat", "exclude", "drop"]).optional(),
  egressIspId: z.string().max(64).optional(),
  poolId: z.string().max(64).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type RuleListInput = z.infer<typeof zRuleListInput>;

/** Text an operator might search a rule by: its networks, zone, pool and ISP names, comment. */
function searchText(policy: Policy, rule: Rule): string {
  const name = (list: { id: string; name: string }[], id: string | null) => list.find((x) => x.id === id)?.name ?? "";
  const parts = [
    `#${rule.seq}`,
    rule.comment,
    rule.protocol,
    rule.action.type,
    ...rule.destinations,
    ...(rule.source.kind === "cidrs" ? rule.source.cidrs : [name(policy.zones, rule.source.zoneId)]),
    rule.action.type === "snat" ? `${name(policy.pools, rule.action.poolId)} ${rule.action.algorithm}` : "",
    name(policy.isps, rule.egressIspId),
    name(policy.isps, rule.redirectIspId),
  ];
  return parts.join(" ").toLowerCase();
}

/** The rules in effective order (docs/semantics.md), filtered and paged on the server. */
export async function listRules(db: Db, input: RuleListInput) {
  const cluster = await getClusterOrThrow(db, input.clusterId);
  const policy = await loadDraftPolicy(db as unknown as Tx, cluster);
  const versions = new Map(
    (await db.rule.findMany({ where: { clusterId: input.clusterId }, select: { id: true, version: true } })).map(
      (r) => [r.id, r.version],
    ),
  );
  const needle = input.search.toLowerCase();
  const ordered = orderRules(policy).filter(({ rule }) => {
    if (input.enabled !== undefined && rule.enabled !== input.enabled) return false;
    if (input.action !== undefined && rule.action.type !== input.action) return false;
    if (input.egressIspId !== undefined && rule.egressIspId !== input.egressIspId) return false;
    if (input.poolId !== undefined && (rule.action.type !== "snat" || rule.action.poolId !== input.poolId))
      return false;
    return needle === "" || searchText(policy, rule).includes(needle);
  });
  return {
    draftVersion: cluster.draftVersion,
    total: ordered.length,
    rules: ordered.slice(input.offset, input.offset + input.limit).map(({ rule, position }) => ({
      rule,
      position,
      version: versions.get(rule.id) ?? 1,
    })),
  };
}

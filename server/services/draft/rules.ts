import { z } from "zod";
import { rulePlace } from "../../../core/policy/rule-name";
import type { Db } from "../../db";
import { type Rule, zProtocol } from "../../../core/policy/model";
import type { OrderedRule } from "../../../core/policy/order";
import { ruleFailoverView } from "../../../core/policy/rule-failover";
import { type DraftSnapshot, draftSnapshot } from "./snapshot";

export const zRuleListInput = z.object({
  clusterId: z.string().min(1).max(64),
  search: z.string().trim().max(100).default(""),
  enabled: z.boolean().optional(),
  action: z.enum(["snat", "exclude", "drop"]).optional(),
  egressIspId: z.string().max(64).optional(),
  poolId: z.string().max(64).optional(),
  zoneId: z.string().max(64).optional(),
  protocol: zProtocol.optional(),
  /** true: only rules the draft's warnings are about */
  warnings: z.boolean().optional(),
  /** effective order (default) or creation order */
  sort: z.enum(["position", "seq"]).default("position"),
  descending: z.boolean().default(false),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type RuleListInput = z.infer<typeof zRuleListInput>;
export type RuleFilter = Omit<RuleListInput, "offset" | "limit">;

/** Text an operator might search a rule by: its place ("#3"), networks, zone, pool and ISP names, comment. */
function searchText(names: Map<string, string>, rule: Rule, position: number): string {
  const name = (id: string | null) => (id === null ? "" : (names.get(id) ?? ""));
  const parts = [
    `${rulePlace(position)} `,
    rule.comment,
    rule.protocol,
    ...(rule.dstPorts ?? []).map((p) => `port ${p}`),
    ...(rule.inInterfaces ?? []),
    rule.action.type,
    ...rule.destinations,
    ...(rule.source.kind === "cidrs" ? rule.source.cidrs : [name(rule.source.zoneId)]),
    rule.action.type === "snat" ? `${name(rule.action.poolId)} ${rule.action.algorithm}` : "",
    name(rule.egressIspId),
    name(rule.redirectIspId),
  ];
  return parts.join(" ").toLowerCase();
}

// the search text of every rule, built once per draft snapshot
const haystacks = new WeakMap<DraftSnapshot, Map<string, string>>();

function haystackOf(snap: DraftSnapshot): Map<string, string> {
  let h = haystacks.get(snap);
  if (h === undefined) {
    const { policy } = snap;
    const names = new Map<string, string>();
    for (const x of [...policy.isps, ...policy.pools, ...policy.zones]) names.set(x.id, x.name);
    h = new Map(snap.ordered().map((r) => [r.rule.id, searchText(names, r.rule, r.position)]));
    haystacks.set(snap, h);
  }
  return h;
}

/** The draft's rules that pass a filter, in the order asked for. */
export function filterRules(snap: DraftSnapshot, input: RuleFilter): OrderedRule[] {
  const needle = input.search.toLowerCase();
  const hay = needle === "" ? null : haystackOf(snap);
  const warned =
    input.warnings === true
      ? new Set(snap.warnings().flatMap((w) => (w.entity === "rule" && w.id ? [w.id] : [])))
      : null;
  const out = snap.ordered().filter(({ rule }) => {
    if (input.enabled !== undefined && rule.enabled !== input.enabled) return false;
    if (input.action !== undefined && rule.action.type !== input.action) return false;
    if (input.egressIspId !== undefined && rule.egressIspId !== input.egressIspId) return false;
    if (input.poolId !== undefined && (rule.action.type !== "snat" || rule.action.poolId !== input.poolId))
      return false;
    if (input.zoneId !== undefined && (rule.source.kind !== "zone" || rule.source.zoneId !== input.zoneId))
      return false;
    if (input.protocol !== undefined && rule.protocol !== input.protocol) return false;
    if (warned !== null && !warned.has(rule.id)) return false;
    return hay === null || (hay.get(rule.id) ?? "").includes(needle);
  });
  if (input.sort === "seq") out.sort((a, b) => a.rule.seq - b.rule.seq);
  if (input.descending) out.reverse();
  return out;
}

/** The rules in effective order (docs/semantics.md), filtered and paged on the server. */
export async function listRules(db: Db, input: RuleListInput) {
  const snap = await draftSnapshot(db, input.clusterId);
  const ordered = filterRules(snap, input);
  return {
    draftVersion: snap.draftVersion,
    total: ordered.length,
    /** all rules of the draft, filtered or not */
    count: snap.policy.rules.length,
    rules: ordered.slice(input.offset, input.offset + input.limit).map(({ rule, position }) => ({
      rule,
      position,
      version: snap.versions.get(rule.id) ?? 1,
      /** where the rule's traffic goes on failover, and which pool: the rules table's "on failover" */
      failover: ruleFailoverView(snap.policy, rule).summary,
    })),
  };
}

/** The ids of every rule that passes a filter: "select all that match" in the rules table. */
export async function listRuleIds(db: Db, input: RuleFilter) {
  const snap = await draftSnapshot(db, input.clusterId);
  return { draftVersion: snap.draftVersion, ids: filterRules(snap, input).map((r) => r.rule.id) };
}

import { criteriaOf, formatFwmark } from "@/core/policy/match-criteria";
import { ALGORITHM_LABELS, type Rule } from "@/core/policy/model";

/**
 * How a rule reads in the rules table: one short text per column, names instead of ids, and
 * "any" where the rule does not restrict.
 */

export interface RuleCells {
  from: string;
  to: string;
  protocol: string;
  /** destination ports, input interfaces and fwmark, or "—" */
  criteria: string;
  egress: string;
  pool: string;
  algorithm: string;
  algorithmLabel: string;
  redirect: string;
}

export interface IspInfo {
  name: string;
  nextHop: string;
}

export function ruleCells(
  rule: Rule,
  names: ReadonlyMap<string, string>,
  isps: ReadonlyMap<string, IspInfo>,
): RuleCells {
  const name = (id: string) => names.get(id) ?? id;
  const from = rule.source.kind === "zone" ? `zone ${name(rule.source.zoneId)}` : rule.source.cidrs.join(", ");
  const to = rule.destinations.length === 0 ? "any" : rule.destinations.join(", ");
  const a = rule.action;
  const pool = a.type === "snat" ? name(a.poolId) : a.type === "exclude" ? "no NAT" : "drop";
  const redirectIsp = rule.redirectIspId ? isps.get(rule.redirectIspId) : undefined;
  const redirect = rule.redirectIspId
    ? redirectIsp
      ? `${redirectIsp.nextHop} (${redirectIsp.name})`
      : name(rule.redirectIspId)
    : "—";
  return {
    from,
    to,
    protocol: rule.protocol,
    criteria: criteriaText(rule),
    egress: rule.egressIspId ? name(rule.egressIspId) : "any",
    pool,
    algorithm: a.type === "snat" ? a.algorithm : "—",
    algorithmLabel: a.type === "snat" ? ALGORITHM_LABELS[a.algorithm] : "",
    redirect,
  };
}

/** "port 443, 8000-8100 · in lan1 · mark 0x10000000/0xf0000000", or "—" for a rule without any. */
export function criteriaText(rule: Rule): string {
  const c = criteriaOf(rule);
  const parts: string[] = [];
  if (c.dstPorts.length > 0) parts.push(`port ${c.dstPorts.join(", ")}`);
  if (c.inInterfaces.length > 0) parts.push(`in ${c.inInterfaces.join(", ")}`);
  if (c.fwmark !== null) parts.push(`mark ${formatFwmark(c.fwmark)}`);
  return parts.length === 0 ? "—" : parts.join(" · ");
}

import { type FailoverRoute, resolveFailover, specFailoverView } from "../spec/failover-route";
import type { Isp, Policy, Rule } from "./model";

/**
 * Where a rule's traffic goes when an ISP it leaves through fails over, worked out from the
 * policy with the gateways' own resolution (core/spec/failover-route.ts): the "on failover"
 * column of the rules page and the sentence under the rule form's failover fields. The pool used
 * on failover can come from three places (the rule's fallback pool, the backup's default pool as
 * the ISP's failover plan names it, or the rule's own backup); this says which one wins.
 */

export interface RuleFailoverCase {
  /** the ISP that fails over */
  fromIspId: string;
  fromName: string;
  /** where the traffic goes; null: it does not move (never moves, or no backup, or a drop rule) */
  toIspId: string | null;
  toName: string | null;
  /** the pool on failover; null: no NAT (exclude) or nothing moves */
  poolId: string | null;
  poolName: string | null;
  /** short: "ISP-B / pool-b (from ISP-A's backup)" */
  text: string;
}

export interface RuleFailoverView {
  cases: RuleFailoverCase[];
  /** one line for the rules table */
  summary: string;
  /** one sentence saying where the pool on failover comes from */
  explanation: string;
}

/** What the resolution reads of a rule: a form's unsaved rule will do. */
export type RuleFailoverFields = Pick<
  Rule,
  "action" | "egressIspId" | "redirectIspId" | "onFailover" | "failoverIspId" | "fallbackPoolId"
>;

function exits(rule: RuleFailoverFields, isps: readonly Isp[]): Isp[] {
  const pinned = rule.redirectIspId ?? rule.egressIspId;
  return pinned === null ? [...isps] : isps.filter((i) => i.id === pinned);
}

export function ruleFailoverView(policy: Pick<Policy, "isps" | "pools">, rule: RuleFailoverFields): RuleFailoverView {
  const isps = new Map(policy.isps.map((i) => [i.id, i]));
  const pools = new Map(policy.pools.map((p) => [p.id, p]));
  const ispName = (id: string) => isps.get(id)?.name ?? id;
  const poolName = (id: string) => pools.get(id)?.name ?? id;
  const view = specFailoverView(
    new Map(
      policy.isps.map((i) => [
        i.id,
        {
          defaultPoolId: i.defaultPoolId,
          backups: i.backupIspIds.map((b) => ({ ispId: b, defaultPoolId: isps.get(b)?.defaultPoolId ?? null })),
        },
      ]),
    ),
  );
  const rulePool = rule.action.type === "snat" ? rule.action.poolId : null;

  if (rule.action.type === "drop") {
    return {
      cases: [],
      summary: "—",
      explanation: "The rule drops its traffic, so a failover changes nothing for it.",
    };
  }
  const cases: RuleFailoverCase[] = [];
  const sentences: string[] = [];
  for (const from of exits(rule, policy.isps)) {
    const firstBackup = from.backupIspIds.find((b) => isps.has(b));
    if (firstBackup === undefined) {
      cases.push({
        fromIspId: from.id,
        fromName: from.name,
        toIspId: null,
        toName: null,
        poolId: null,
        poolName: null,
        text: `stays on ${from.name} (it has no backup ISP)`,
      });
      sentences.push(`${from.name} has no backup ISP in its failover plan, so it never fails over`);
      continue;
    }
    const route = resolveFailover(view, new Map([[from.id, firstBackup]]), from.id, rule, rulePool);
    const c = caseOf(from, route, rulePool, ispName, poolName);
    cases.push(c);
    sentences.push(sentenceOf(from, route, rulePool, ispName, poolName));
  }
  if (cases.length === 0) {
    return { cases, summary: "—", explanation: "The rule's ISP is not in the policy." };
  }
  const summary = cases.length === 1 ? (cases[0]?.text ?? "") : cases.map((c) => `${c.fromName}: ${c.text}`).join("; ");
  return { cases, summary, explanation: `${sentences.join("; ")}.` };
}

function caseOf(
  from: Isp,
  route: FailoverRoute,
  rulePool: string | null,
  ispName: (id: string) => string,
  poolName: (id: string) => string,
): RuleFailoverCase {
  const base = { fromIspId: from.id, fromName: from.name };
  if (route.failedOverFrom === null) {
    const pool = rulePool === null ? "no NAT" : poolName(rulePool);
    return {
      ...base,
      toIspId: null,
      toName: null,
      poolId: null,
      poolName: null,
      text: `stays on ${from.name} / ${pool} (never moves)`,
    };
  }
  const to = ispName(route.ispId);
  const pool = route.poolId === null ? "no NAT" : poolName(route.poolId);
  const where =
    route.via === "own-backup"
      ? route.poolSource === "rule-fallback"
        ? "the rule's own backup"
        : `the rule's own backup, ${to}'s default pool`
      : route.poolSource === "rule-fallback"
        ? `${from.name}'s backup, the rule's fallback pool`
        : route.poolSource === "backup-default"
          ? `from ${from.name}'s backup`
          : route.poolSource === "rule-pool"
            ? `${from.name}'s backup has no pool: keeps the rule's own`
            : `${from.name}'s backup`;
  return {
    ...base,
    toIspId: route.ispId,
    toName: to,
    poolId: route.poolId,
    poolName: route.poolId === null ? null : pool,
    text: `${to} / ${pool} (${where})`,
  };
}

function sentenceOf(
  from: Isp,
  route: FailoverRoute,
  rulePool: string | null,
  ispName: (id: string) => string,
  poolName: (id: string) => string,
): string {
  if (route.failedOverFrom === null) {
    return `When ${from.name} fails over, this rule's traffic stays on ${from.name}${rulePool === null ? "" : ` with pool ${poolName(rulePool)}`} and is lost while ${from.name} is down`;
  }
  const to = ispName(route.ispId);
  const lead = `When ${from.name} fails over, this rule's traffic goes to ${to}`;
  const via = route.via === "own-backup" ? ", the rule's own backup," : `, ${from.name}'s backup,`;
  if (route.poolId === null) return `${lead}${via} without NAT`;
  const pool = poolName(route.poolId);
  switch (route.poolSource) {
    case "rule-fallback":
      return `${lead}${via} with pool ${pool}, set on this rule (it wins over ${to}'s default pool)`;
    case "backup-default":
      return `${lead}${via} with pool ${pool}, ${to}'s default pool (the rule sets no pool of its own)`;
    case "rule-pool":
      return `${lead}${via} but keeps pool ${pool}: neither the rule nor ${to} names a pool for it`;
    default:
      return `${lead}${via} with pool ${pool}`;
  }
}

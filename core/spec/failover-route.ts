/**
 * Where a connection goes when the ISP it would leave through is failed over, and with which
 * pool: the one resolution of docs/semantics.md ("Failover"), used by `decide` (simulator), the
 * nftables plan (renderer, failover preview) and the rules page's "on failover" column.
 *
 * A rule says how its traffic takes a failover of its ISP:
 * - follow (the default): it goes where the ISP's failover sends it (the operator's chosen backup,
 *   else the first healthy one in the ISP's plan), with the rule's fallback pool, else that
 *   backup's default pool, else the rule's own pool;
 * - stay: it never moves; it stays on the failed ISP with its own pool (and drops with it);
 * - own: it goes to the rule's own backup ISP with the rule's fallback pool, else that ISP's
 *   default pool. An own backup that is failed over itself is not used: the rule follows the
 *   ISP's failover instead.
 */

export const ON_FAILOVER = ["follow", "stay", "own"] as const;
export type OnFailover = (typeof ON_FAILOVER)[number];

/** The failover state: failed-over ISP id -> the backup its traffic goes to. */
export type FailoverMap = ReadonlyMap<string, string>;

export interface FailoverRuleFields {
  onFailover: OnFailover;
  /** own: the rule's own backup ISP */
  failoverIspId: string | null;
  /** follow: the pool on the ISP's backup; own: the pool on the rule's own backup */
  fallbackPoolId: string | null;
}

/** How the pool after a failover was chosen, for words on the page and in the simulator. */
export type FailoverPoolSource =
  /** no failover applies to the connection */
  | "none"
  /** the rule never moves: it keeps its ISP and its pool */
  | "stays"
  /** the rule's fallback pool */
  | "rule-fallback"
  /** the backup ISP's default pool (the failover plan's pool for that backup) */
  | "backup-default"
  /** nothing names a pool for the backup: the rule keeps its own pool's addresses */
  | "rule-pool";

export interface FailoverRoute {
  /** the ISP the connection finally leaves through */
  ispId: string;
  /** set when a failover moved it off this ISP */
  failedOverFrom: string | null;
  /** the pool a SNAT rule uses (its own pool when nothing moved) */
  poolId: string | null;
  poolSource: FailoverPoolSource;
  /** what took the connection where it goes: the ISP's failover or the rule's own backup */
  via: "none" | "isp-failover" | "own-backup";
}

export interface FailoverIspView {
  /** the ISP's default pool; null: none */
  defaultPoolOf(ispId: string): string | null;
  /** the pool the ISP's failover plan names for one of its backups (the backup's default pool) */
  plannedPoolOf(fromIspId: string, backupIspId: string): string | null;
  /** the ISP is known (a failover to an unknown ISP is ignored) */
  has(ispId: string): boolean;
}

/**
 * @param ispId the ISP the connection would leave through (routing's choice, or the rule's redirect)
 * @param rule the matched rule's failover fields; null: no rule matched (unmatched traffic follows)
 * @param rulePoolId the rule's own SNAT pool; null: it does not SNAT
 */
export function resolveFailover(
  view: FailoverIspView,
  failover: FailoverMap,
  ispId: string,
  rule: FailoverRuleFields | null,
  rulePoolId: string | null,
): FailoverRoute {
  const backupId = failover.get(ispId);
  if (backupId === undefined || !view.has(backupId)) {
    return { ispId, failedOverFrom: null, poolId: rulePoolId, poolSource: "none", via: "none" };
  }
  const behaviour = rule?.onFailover ?? "follow";
  if (behaviour === "stay") {
    return { ispId, failedOverFrom: null, poolId: rulePoolId, poolSource: "stays", via: "none" };
  }
  const own = behaviour === "own" ? (rule?.failoverIspId ?? null) : null;
  // an own backup that is the failed ISP or failed over itself cannot take the traffic
  if (own !== null && own !== ispId && view.has(own) && !failover.has(own)) {
    return {
      ispId: own,
      failedOverFrom: ispId,
      via: "own-backup",
      ...poolOn(rulePoolId, rule?.fallbackPoolId ?? null, view.defaultPoolOf(own)),
    };
  }
  // an own rule that follows the ISP's failover has no pool of its own for that backup
  const fallback = behaviour === "follow" ? (rule?.fallbackPoolId ?? null) : null;
  return {
    ispId: backupId,
    failedOverFrom: ispId,
    via: "isp-failover",
    ...poolOn(rulePoolId, fallback, view.plannedPoolOf(ispId, backupId)),
  };
}

function poolOn(
  rulePoolId: string | null,
  fallback: string | null,
  planned: string | null,
): { poolId: string | null; poolSource: FailoverPoolSource } {
  if (rulePoolId === null) return { poolId: null, poolSource: "none" };
  if (fallback !== null) return { poolId: fallback, poolSource: "rule-fallback" };
  if (planned !== null) return { poolId: planned, poolSource: "backup-default" };
  return { poolId: rulePoolId, poolSource: "rule-pool" };
}

/** The view over a GatewaySpec's ISPs (their failover plans carry each backup's pool). */
export function specFailoverView(
  isps: ReadonlyMap<
    string,
    { defaultPoolId?: string | null; backups: ReadonlyArray<{ ispId: string; defaultPoolId: string | null }> }
  >,
): FailoverIspView {
  return {
    has: (id) => isps.has(id),
    defaultPoolOf: (id) => isps.get(id)?.defaultPoolId ?? null,
    plannedPoolOf: (from, backup) => isps.get(from)?.backups.find((b) => b.ispId === backup)?.defaultPoolId ?? null,
  };
}

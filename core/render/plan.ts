import { ALGORITHMS, type Algorithm } from "../policy/model";
import type { FailoverState } from "../spec/decide";
import { resolveFailover, specFailoverView } from "../spec/failover-route";
import {
  MARK_ACTION_SHIFT,
  MARK_CLASSIFIED,
  MARK_EXCLUDE,
  MARK_FAILOVER,
  MARK_REROUTE,
  MAX_ACTIONS,
} from "../spec/marks";
import type { GatewaySpec, SpecEntry, SpecIsp, SpecPool } from "../spec/schema";

/**
 * The decisions of docs/semantics.md resolved as far as they can be before a packet arrives: for
 * each entry and each ISP routing may pick, the connection mark the classifier writes (final ISP,
 * reroute, exclude, failover, NAT action). Everything left for the kernel is source/destination/
 * protocol matching and, for entries without an egress or redirect, which ISP routing picked.
 */

export class RenderError extends Error {
  override name = "RenderError";
}

/** One SNAT action: a pool with an algorithm. Its number is stored in the connection mark. */
export interface NatAction {
  number: number;
  pool: SpecPool;
  /** 1-based position of the pool in spec.pools: names its address map */
  poolNumber: number;
  algorithm: Algorithm;
}

/** What the classifier does to a connection it has matched, when that is not a drop. */
export interface Outcome {
  /** the Gatehouse bits of the connection mark (marks.ts) */
  mark: number;
  isp: SpecIsp;
  failedOverFrom: SpecIsp | null;
  reroute: boolean;
  exclude: boolean;
  nat: NatAction | null;
}

export type Target =
  | { kind: "drop" }
  | { kind: "outcome"; outcome: Outcome }
  /** no egress and no redirect: the outcome depends on the ISP routing picked, one per ISP */
  | { kind: "by-routed"; outcomes: Array<{ routed: SpecIsp; outcome: Outcome }> };

export interface PlannedEntry {
  /** index in spec.entries */
  index: number;
  entry: SpecEntry;
  /** null when the entry can never match (its egress ISP is not in the spec) */
  egress: SpecIsp | null;
  target: Target;
}

export interface Plan {
  /** the ISPs ordered by index */
  isps: SpecIsp[];
  entries: PlannedEntry[];
  /** per ISP routing picked: what happens to connections no entry matches */
  unmatched: Array<{ routed: SpecIsp; target: Target }>;
  natActions: NatAction[];
}

interface Ctx {
  spec: GatewaySpec;
  isps: Map<string, SpecIsp>;
  pools: Map<string, SpecPool>;
  failover: FailoverState;
  nat: Map<string, NatAction>;
}

function checkIsps(spec: GatewaySpec): Map<string, SpecIsp> {
  const byId = new Map<string, SpecIsp>();
  const indexes = new Set<number>();
  const links = new Set<string>();
  for (const isp of spec.isps) {
    if (byId.has(isp.id)) throw new RenderError(`ISP id ${isp.id} appears twice`);
    if (indexes.has(isp.index)) throw new RenderError(`ISP index ${isp.index} is used by two ISPs`);
    // egress is told apart by the interface routing picks and, on a shared interface, by the next hop
    const link = `${isp.interface} ${isp.nextHop}`;
    if (links.has(link)) {
      throw new RenderError(
        `interface ${isp.interface} with next hop ${isp.nextHop} is used by two ISPs; egress matching needs one interface or next hop per ISP`,
      );
    }
    byId.set(isp.id, isp);
    indexes.add(isp.index);
    links.add(link);
  }
  return byId;
}

function natAction(ctx: Ctx, poolId: string, algorithm: Algorithm): NatAction {
  const key = `${poolId}\u0000${algorithm}`;
  let action = ctx.nat.get(key);
  if (action === undefined) {
    const pool = ctx.pools.get(poolId);
    if (pool === undefined) throw new RenderError(`the spec names pool ${poolId}, which it does not define`);
    const poolNumber = ctx.spec.pools.indexOf(pool) + 1;
    action = { number: 0, pool, poolNumber, algorithm };
    ctx.nat.set(key, action);
  }
  return action;
}

function outcomeFor(ctx: Ctx, entry: SpecEntry | null, routed: SpecIsp): Target {
  if (entry?.action.type === "drop") return { kind: "drop" };
  if (entry === null && ctx.spec.settings.unmatched === "drop") return { kind: "drop" };
  let pre = routed;
  if (entry?.redirectIspId != null) {
    const r = ctx.isps.get(entry.redirectIspId);
    if (r === undefined)
      throw new RenderError(
        `rule ${entry.ruleId} redirects to ISP ${entry.redirectIspId}, which the spec does not define`,
      );
    pre = r;
  }
  const rulePool = entry !== null && entry.action.type === "snat" ? entry.action.poolId : null;
  const resolved = resolveFailover(specFailoverView(ctx.isps), ctx.failover, pre.id, entry, rulePool);
  const isp = ctx.isps.get(resolved.ispId) ?? pre;
  const from = resolved.failedOverFrom === null ? null : (ctx.isps.get(resolved.failedOverFrom) ?? null);
  const reroute = entry?.redirectIspId != null || from !== null;
  let nat: NatAction | null = null;
  if (entry !== null && entry.action.type === "snat") {
    nat = natAction(ctx, resolved.poolId ?? entry.action.poolId, entry.action.algorithm);
  }
  const outcome: Outcome = { mark: 0, isp, failedOverFrom: from, reroute, exclude: nat === null, nat };
  return { kind: "outcome", outcome };
}

function targetFor(ctx: Ctx, entry: SpecEntry, egress: SpecIsp | null, all: SpecIsp[]): Target {
  if (egress !== null) return outcomeFor(ctx, entry, egress);
  if (entry.redirectIspId !== null || all.length === 1) {
    // the outcome does not depend on which ISP routing picked; any ISP stands for all
    const any = all[0];
    return any === undefined ? { kind: "drop" } : outcomeFor(ctx, entry, any);
  }
  if (entry.action.type === "drop") return { kind: "drop" };
  const outcomes = all.map((routed) => {
    const t = outcomeFor(ctx, entry, routed);
    if (t.kind !== "outcome") throw new RenderError("internal: per-ISP outcome is not an outcome");
    return { routed, outcome: t.outcome };
  });
  return { kind: "by-routed", outcomes };
}

function markOf(o: Outcome): number {
  let mark = MARK_CLASSIFIED | o.isp.index;
  if (o.reroute) mark |= MARK_REROUTE;
  if (o.exclude) mark |= MARK_EXCLUDE;
  if (o.failedOverFrom !== null) mark |= MARK_FAILOVER;
  if (o.nat !== null) mark |= o.nat.number << MARK_ACTION_SHIFT;
  return mark >>> 0;
}

function eachOutcome(plan: Plan, visit: (o: Outcome) => void): void {
  const visitTarget = (t: Target) => {
    if (t.kind === "outcome") visit(t.outcome);
    else if (t.kind === "by-routed") for (const x of t.outcomes) visit(x.outcome);
  };
  for (const e of plan.entries) visitTarget(e.target);
  for (const u of plan.unmatched) visitTarget(u.target);
}

export function planSpec(spec: GatewaySpec, failover: FailoverState): Plan {
  const isps = checkIsps(spec);
  const pools = new Map<string, SpecPool>();
  for (const pool of spec.pools) {
    if (pools.has(pool.id)) throw new RenderError(`pool id ${pool.id} appears twice`);
    pools.set(pool.id, pool);
  }
  const ctx: Ctx = { spec, isps, pools, failover, nat: new Map() };
  const ordered = [...spec.isps].sort((a, b) => a.index - b.index);

  const entries: PlannedEntry[] = spec.entries.map((entry, index) => {
    const egress = entry.egressIspId === null ? null : (isps.get(entry.egressIspId) ?? null);
    const never = entry.egressIspId !== null && egress === null;
    return { index, entry, egress, target: never ? { kind: "drop" } : targetFor(ctx, entry, egress, ordered) };
  });
  const plan: Plan = {
    isps: ordered,
    // an entry whose egress ISP is unknown can never match (decide compares ids): leave it out
    entries: entries.filter((e) => e.entry.egressIspId === null || e.egress !== null),
    unmatched: ordered.map((routed) => ({ routed, target: outcomeFor(ctx, null, routed) })),
    natActions: [],
  };

  // numbered by pool then algorithm, so adding or reordering rules does not renumber actions
  const actions = [...ctx.nat.values()].sort(
    (a, b) => a.poolNumber - b.poolNumber || ALGORITHMS.indexOf(a.algorithm) - ALGORITHMS.indexOf(b.algorithm),
  );
  if (actions.length > MAX_ACTIONS)
    throw new RenderError(`the spec needs ${actions.length} NAT actions; at most ${MAX_ACTIONS} fit in the mark`);
  actions.forEach((a, i) => {
    a.number = i + 1;
  });
  plan.natActions = actions;
  eachOutcome(plan, (o) => {
    o.mark = markOf(o);
  });
  return plan;
}

/** Whether any connection may be rerouted (a redirect, or a failover in effect): then the classifier also runs before routing. */
export function planReroutes(plan: Plan): boolean {
  let found = false;
  eachOutcome(plan, (o) => {
    if (o.reroute) found = true;
  });
  return found;
}

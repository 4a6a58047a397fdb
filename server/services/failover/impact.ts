import type { LinkState } from "../../../core/health/link-state";
import { type Outcome, planSpec, type Target } from "../../../core/render/plan";
import type { FailoverState } from "../../../core/spec/decide";
import type { GatewaySpec } from "../../../core/spec/schema";
import { compileGatewaySpec, type IspFailover } from "../../../core/policy/compile";
import type { Isp, Policy } from "../../../core/policy/model";
import type { OnFailover } from "../../../core/spec/failover-route";
import type { ClusterFailoverView } from "./cluster-state";

/**
 * What a failover (or restore) of one ISP will change, before anyone clicks: the backup that
 * will take the traffic and how healthy it is on each gateway, every rule whose connections
 * will leave through another ISP or another pool (computed with the gateway's own planner on the
 * published policy, so the preview cannot disagree with the datapath), and how many connections
 * the gateways report on the ISP now: those are cut and must reconnect.
 */

export type FailoverAction = "failover" | "restore";

export interface BackupView {
  id: string;
  name: string;
  /** the operator picked it */
  chosen: boolean;
  /** per gateway name: the backup's state there */
  states: Record<string, LinkState>;
  /** some online gateway could send traffic through it (or none reports it): it is not down everywhere */
  usable: boolean;
  /** down on none of the online gateways */
  healthyEverywhere: boolean;
  /** failed over itself: it cannot take traffic */
  failedOver: boolean;
}

export interface RouteView {
  ispId: string;
  ispName: string;
  /** null: no NAT (excluded) or dropped */
  poolId: string | null;
  poolName: string | null;
}

export interface RuleImpact {
  ruleId: string;
  position: number;
  comment: string;
  sources: string[];
  before: RouteView[];
  after: RouteView[];
  /** the rule's own failover behaviour: follow the ISP's failover, never move, or its own backup */
  onFailover: OnFailover;
}

export interface PoolChange {
  from: string;
  to: string;
  rules: number;
}

export interface FailoverImpact {
  action: FailoverAction;
  isp: { id: string; name: string };
  backups: BackupView[];
  /** where the traffic goes (failover) or comes back from (restore) */
  backupToUse: { id: string; name: string } | null;
  rules: RuleImpact[];
  rulesTotal: number;
  /**
   * failover: rules that never move and leave through this ISP; their connections stay on it
   * (and are lost while it is down)
   */
  staying: RuleImpact[];
  pools: PoolChange[];
  /** connections the gateways report on this ISP now (they are flushed and reconnect) */
  connections: number | null;
  gateways: Array<{ id: string; name: string; online: boolean; state: LinkState | null; via: string | null }>;
  /** why the action cannot go ahead; null when it can */
  blocked: string | null;
  warnings: string[];
}

export const MAX_RULES_SHOWN = 200;
const PREVIEW_GATEWAY = { id: "preview", name: "preview" };

function compile(view: ClusterFailoverView, failover: IspFailover[]): GatewaySpec {
  return compileGatewaySpec({
    policy: view.policy,
    revision: view.cluster.publishedRevision,
    clusterId: view.cluster.id,
    clusterName: view.cluster.name,
    gateway: PREVIEW_GATEWAY,
    failover,
    failoverEpoch: view.cluster.failoverEpoch,
  });
}

/** Where an entry's connections go, per ISP routing may pick ("*": whichever it picks). */
function routesOf(t: Target): Map<string, RouteView | null> {
  const one = (o: Outcome): RouteView => ({
    ispId: o.isp.id,
    ispName: o.isp.name,
    poolId: o.nat?.pool.id ?? null,
    poolName: o.nat?.pool.name ?? null,
  });
  if (t.kind === "drop") return new Map([["*", null]]);
  if (t.kind === "outcome") return new Map([["*", one(t.outcome)]]);
  return new Map(t.outcomes.map((x) => [x.routed.id, one(x.outcome)]));
}

const routeKey = (r: RouteView | null | undefined) => (r == null ? "drop" : `${r.ispId}\u0000${r.poolId ?? ""}`);

/** Rule by rule, where connections go under each failover state; only what changes is listed. */
export function ruleChanges(policy: Policy, spec: GatewaySpec, before: FailoverState, after: FailoverState) {
  const a = planSpec(spec, before);
  const b = planSpec(spec, after);
  const comments = new Map(policy.rules.map((r) => [r.id, r.comment]));
  const byRule = new Map<string, RuleImpact>();
  const afterByIndex = new Map(b.entries.map((e) => [e.index, e]));
  const add = (list: RouteView[], r: RouteView | null | undefined) => {
    if (r != null && !list.some((x) => routeKey(x) === routeKey(r))) list.push(r);
  };
  for (const e of a.entries) {
    const other = afterByIndex.get(e.index);
    if (other === undefined) continue;
    const from = routesOf(e.target);
    const to = routesOf(other.target);
    const changed = [...new Set([...from.keys(), ...to.keys()])].filter(
      (k) => routeKey(from.get(k) ?? from.get("*")) !== routeKey(to.get(k) ?? to.get("*")),
    );
    if (changed.length === 0) continue;
    let r = byRule.get(e.entry.ruleId);
    if (r === undefined) {
      r = {
        ruleId: e.entry.ruleId,
        position: e.entry.rulePosition,
        comment: comments.get(e.entry.ruleId) ?? "",
        sources: [],
        before: [],
        after: [],
        onFailover: e.entry.onFailover,
      };
      byRule.set(e.entry.ruleId, r);
    }
    if (!r.sources.includes(e.entry.source)) r.sources.push(e.entry.source);
    for (const k of changed) {
      add(r.before, from.get(k) ?? from.get("*"));
      add(r.after, to.get(k) ?? to.get("*"));
    }
  }
  return [...byRule.values()].sort((x, y) => x.position - y.position);
}

/** Rules that never move whose connections leave through the ISP: a failover leaves them where they are. */
export function stayingRules(policy: Policy, spec: GatewaySpec, after: FailoverState, ispId: string): RuleImpact[] {
  const comments = new Map(policy.rules.map((r) => [r.id, r.comment]));
  const byRule = new Map<string, RuleImpact>();
  for (const e of planSpec(spec, after).entries) {
    if (e.entry.onFailover !== "stay") continue;
    const routes = routesOf(e.target);
    const route = routes.get(ispId) ?? routes.get("*");
    if (route == null || route.ispId !== ispId) continue;
    const r = byRule.get(e.entry.ruleId) ?? {
      ruleId: e.entry.ruleId,
      position: e.entry.rulePosition,
      comment: comments.get(e.entry.ruleId) ?? "",
      sources: [],
      before: [route],
      after: [route],
      onFailover: e.entry.onFailover,
    };
    if (!r.sources.includes(e.entry.source)) r.sources.push(e.entry.source);
    byRule.set(e.entry.ruleId, r);
  }
  return [...byRule.values()].sort((x, y) => x.position - y.position);
}

function poolChanges(rules: RuleImpact[]): PoolChange[] {
  const counts = new Map<string, PoolChange>();
  for (const r of rules) {
    const from = r.before.map((x) => `${x.poolName ?? "no NAT"} (${x.ispName})`).join(", ");
    const to = r.after.map((x) => `${x.poolName ?? "no NAT"} (${x.ispName})`).join(", ");
    const key = `${from}\u0000${to}`;
    const c = counts.get(key) ?? { from, to, rules: 0 };
    c.rules++;
    counts.set(key, c);
  }
  return [...counts.values()];
}

const rowsOf = (view: ClusterFailoverView): IspFailover[] =>
  [...view.failover.values()].map((f) => ({
    ispId: f.ispId,
    adminState: f.adminState,
    backupIspId: f.backupIspId,
    restoredEpoch: f.restoredEpoch,
  }));

/** An operator's failover without a chosen backup goes to the first in the plan (as a gateway with all healthy would). */
function adminState(rows: IspFailover[], isps: ReadonlyMap<string, Isp>): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of rows) {
    if (r.adminState !== "failed_over") continue;
    const to = r.backupIspId ?? isps.get(r.ispId)?.backupIspIds[0];
    if (to !== undefined) m.set(r.ispId, to);
  }
  return m;
}

/** Whether an ISP is failed over anywhere: by an operator, or by a gateway on its own. */
export function failedOverAnywhere(view: ClusterFailoverView, ispId: string): boolean {
  return (
    view.failover.get(ispId)?.adminState === "failed_over" ||
    view.gateways.some((g) => g.isps[ispId]?.failover != null || g.isps[ispId]?.held === true)
  );
}

export function failoverImpact(
  view: ClusterFailoverView,
  input: { ispId: string; backupIspId?: string | null; action: FailoverAction },
): FailoverImpact {
  const isps = new Map(view.policy.isps.map((i) => [i.id, i]));
  const isp = isps.get(input.ispId);
  const base: FailoverImpact = {
    action: input.action,
    isp: { id: input.ispId, name: isp?.name ?? input.ispId },
    backups: [],
    backupToUse: null,
    rules: [],
    rulesTotal: 0,
    staying: [],
    pools: [],
    connections: null,
    gateways: [],
    blocked: null,
    warnings: [],
  };
  if (view.cluster.publishedRevision === 0) return { ...base, blocked: "The cluster has published nothing yet." };
  if (isp === undefined) return { ...base, blocked: "This ISP is not in the published revision." };

  const online = view.gateways.filter((g) => g.online);
  const adminRows = rowsOf(view);
  const failedOverAdmin = new Set(adminRows.filter((r) => r.adminState === "failed_over").map((r) => r.ispId));
  const backups: BackupView[] = isp.backupIspIds
    .map((id) => isps.get(id))
    .filter((b): b is Isp => b !== undefined)
    .map((b) => {
      const states: Record<string, LinkState> = {};
      for (const g of view.gateways) states[g.name] = g.isps[b.id]?.state ?? "unknown";
      return {
        id: b.id,
        name: b.name,
        chosen: b.id === input.backupIspId,
        states,
        usable: online.length === 0 || online.some((g) => g.isps[b.id]?.state !== "down"),
        healthyEverywhere: !online.some((g) => g.isps[b.id]?.state === "down"),
        failedOver: failedOverAdmin.has(b.id),
      };
    });
  let connections: number | null = null;
  for (const g of online) {
    const n = g.isps[isp.id]?.connections;
    if (typeof n === "number") connections = (connections ?? 0) + n;
  }
  const gateways = view.gateways.map((g) => {
    const h = g.isps[isp.id];
    const via = h?.failover ? (isps.get(h.failover.backupIspId)?.name ?? h.failover.backupIspId) : null;
    return { id: g.id, name: g.name, online: g.online, state: h?.state ?? null, via };
  });
  const result: FailoverImpact = { ...base, backups, connections, gateways };
  if (online.length === 0) result.warnings.push("No gateway is online: the change applies when gateways reconnect.");

  let afterRows: IspFailover[];
  if (input.action === "failover") {
    if (failedOverAdmin.has(isp.id)) return { ...result, blocked: `${isp.name} is already failed over.` };
    if (backups.length === 0) {
      return {
        ...result,
        blocked: `${isp.name} has no backup ISPs in its failover plan: there is nowhere to send its traffic.`,
      };
    }
    if (input.backupIspId != null && !backups.some((b) => b.id === input.backupIspId)) {
      return { ...result, blocked: "The chosen backup is not in this ISP's failover plan." };
    }
    const candidates = backups.filter((b) => !b.failedOver);
    // as a gateway picks: the operator's choice, else the first in the plan's order that is healthy;
    // the console prefers one healthy on every gateway, and refuses only when none is up anywhere
    const chosen = candidates.find((b) => b.chosen && b.usable);
    const pick = chosen ?? candidates.find((b) => b.healthyEverywhere) ?? candidates.find((b) => b.usable);
    if (pick === undefined) {
      return {
        ...result,
        blocked: `No backup of ${isp.name} is healthy (${backups.map((b) => `${b.name}: ${b.failedOver ? "failed over itself" : "down"}`).join(", ")}). A failover never goes to a backup that is down; nothing would change.`,
      };
    }
    if (input.backupIspId != null && pick.id !== input.backupIspId) {
      result.warnings.push(`The chosen backup is not usable; gateways will use ${pick.name}.`);
    }
    for (const b of backups) {
      const downOn = Object.entries(b.states)
        .filter(([, s]) => s === "down")
        .map(([gw]) => gw);
      if (b.id === pick.id && downOn.length > 0) {
        result.warnings.push(
          `${b.name} is down on ${downOn.join(", ")}: those gateways use the next healthy backup or keep their traffic.`,
        );
      }
    }
    result.backupToUse = { id: pick.id, name: pick.name };
    afterRows = [
      ...adminRows.filter((r) => r.ispId !== isp.id),
      { ispId: isp.id, adminState: "failed_over", backupIspId: pick.id },
    ];
  } else {
    if (!failedOverAnywhere(view, isp.id)) return { ...result, blocked: `${isp.name} is not failed over.` };
    // where its traffic is now: the operator's choice, else what gateways report, else the plan's first
    const reported = view.gateways.map((g) => g.isps[isp.id]?.failover?.backupIspId).find((b) => b !== undefined);
    const back = view.failover.get(isp.id)?.backupIspId ?? reported ?? isp.backupIspIds[0] ?? null;
    result.backupToUse = back === null ? null : { id: back, name: isps.get(back)?.name ?? back };
    const downOn = online.filter((g) => g.isps[isp.id]?.state === "down").map((g) => g.name);
    if (downOn.length > 0 && isp.failoverMode === "automatic") {
      result.warnings.push(
        `${isp.name} is still down on ${downOn.join(", ")}: those gateways fail it over again on their own.`,
      );
    } else if (downOn.length > 0) {
      result.warnings.push(
        `${isp.name} is down on ${downOn.join(", ")}: its traffic there will be lost until it recovers.`,
      );
    }
    afterRows = adminRows.map((r) => (r.ispId === isp.id ? { ...r, adminState: "active" as const } : r));
  }

  // the operators' failover state before and after: what this decision changes
  const before = adminState(adminRows, isps);
  if (input.action === "restore" && !before.has(isp.id) && result.backupToUse !== null) {
    // failed over by gateways on their own: the rules come back from where they report it
    before.set(isp.id, result.backupToUse.id);
  }
  const spec = compile(view, afterRows);
  const rules = ruleChanges(view.policy, spec, before, adminState(afterRows, isps));
  result.rulesTotal = rules.length;
  result.rules = rules.slice(0, MAX_RULES_SHOWN);
  result.pools = poolChanges(rules);
  if (input.action === "failover") {
    result.staying = stayingRules(view.policy, spec, adminState(afterRows, isps), isp.id).slice(0, MAX_RULES_SHOWN);
  }
  return result;
}

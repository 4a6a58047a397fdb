import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import type { LinkState } from "../../core/health/link-state";

/**
 * Which ISPs this gateway sends through a backup right now, decided from the spec (the
 * operators' failovers and each ISP's failover plan) and the links' measured states. Pure: the
 * controller feeds it and acts on the difference (docs/semantics.md, "Failover"):
 *
 * - an ISP is failed over when an operator failed it over, or when it fails over automatically
 *   and is down; an automatic failover ends by itself once the ISP is up again (automatic
 *   failback) or only when an operator restores it (manual failback: the controller holds it);
 * - it goes to the operator's chosen backup, else it stays on the backup it already uses, else
 *   the first backup in the plan's order; never to a backup that is down or failed over itself;
 * - with no such backup nothing changes (a failover in place stays, none starts) and an alert
 *   says so.
 */

export type FailoverMode = "admin" | "automatic";

export interface ActiveFailover {
  backupIspId: string;
  mode: FailoverMode;
  /** when this gateway started sending the ISP's traffic to this backup (ms) */
  since: number;
}

export type AlertKind = "no_healthy_backup";

export interface Alert {
  ispId: string;
  kind: AlertKind;
  message: string;
}

export interface PlanInput {
  spec: GatewaySpec;
  /** measured state per ISP id; missing means unknown */
  health: ReadonlyMap<string, LinkState>;
  previous: ReadonlyMap<string, ActiveFailover>;
  /** ISPs failed over automatically whose failback waits for an operator */
  held: ReadonlySet<string>;
  now: number;
}

export interface FailoverPlan {
  active: Map<string, ActiveFailover>;
  alerts: Alert[];
}

const stateOf = (input: PlanInput, id: string): LinkState => input.health.get(id) ?? "unknown";

function wanted(input: PlanInput, isp: SpecIsp): FailoverMode | null {
  if (isp.adminState === "failed_over") return "admin";
  if (isp.failoverMode !== "automatic") return null;
  const state = stateOf(input, isp.id);
  if (state === "down") return "automatic";
  const prev = input.previous.get(isp.id);
  if (prev === undefined) return null;
  if (input.held.has(isp.id)) return "automatic";
  // automatic failback waits for a verdict of up: unknown (prober restarting) keeps the failover
  if (isp.failbackMode === "automatic" && state !== "up" && state !== "degraded") return "automatic";
  return null;
}

export function planFailover(input: PlanInput): FailoverPlan {
  const isps = [...input.spec.isps].sort((a, b) => a.index - b.index);
  const byId = new Map(isps.map((i) => [i.id, i]));
  const want = new Map<string, FailoverMode>();
  for (const isp of isps) {
    const mode = wanted(input, isp);
    if (mode !== null) want.set(isp.id, mode);
  }

  const active = new Map<string, ActiveFailover>();
  const alerts: Alert[] = [];
  for (const isp of isps) {
    const mode = want.get(isp.id);
    if (mode === undefined) continue;
    const prev = input.previous.get(isp.id);
    const eligible = (id: string | null | undefined): id is string =>
      id != null && id !== isp.id && byId.has(id) && !want.has(id) && stateOf(input, id) !== "down";
    const chosen = mode === "admin" ? isp.adminBackupIspId : null;
    const order = isp.backups.map((b) => b.ispId);
    const backup = eligible(chosen)
      ? chosen
      : eligible(prev?.backupIspId)
        ? prev.backupIspId
        : order.find((id) => eligible(id));
    if (backup !== undefined) {
      active.set(isp.id, {
        backupIspId: backup,
        mode,
        since: prev?.backupIspId === backup ? prev.since : input.now,
      });
      continue;
    }
    const why =
      mode === "admin"
        ? `an operator failed ${isp.name} over`
        : `${isp.name} is ${stateOf(input, isp.id) === "down" ? "down" : "held failed over"}`;
    const backups =
      order.length === 0
        ? "it has no backups in its failover plan"
        : `no backup can take its traffic (${order.map((id) => describeBackup(input, byId, want, id)).join(", ")})`;
    const kept = prev !== undefined && byId.has(prev.backupIspId);
    alerts.push({
      ispId: isp.id,
      kind: "no_healthy_backup",
      message: `${why}, but ${backups}; ${kept ? `its traffic stays on ${byId.get(prev.backupIspId)?.name}` : "nothing was changed"}`,
    });
    if (kept) active.set(isp.id, { ...prev, mode });
  }
  return { active, alerts };
}

function describeBackup(
  input: PlanInput,
  byId: ReadonlyMap<string, SpecIsp>,
  want: ReadonlyMap<string, FailoverMode>,
  id: string,
): string {
  const isp = byId.get(id);
  if (isp === undefined) return `${id} is not in the spec`;
  const state = stateOf(input, id);
  if (want.has(id) && state !== "down") return `${isp.name} is failed over itself`;
  return `${isp.name} is ${state}`;
}

export function failoverStateOf(active: ReadonlyMap<string, ActiveFailover>): FailoverState {
  return new Map([...active].map(([id, f]) => [id, f.backupIspId]));
}

export const sameFailoverState = (a: FailoverState, b: FailoverState): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

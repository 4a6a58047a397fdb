import { randomUUID } from "node:crypto";
import type { ApplyResult } from "../apply/apply-spec";
import type { Datapath } from "../apply/datapath";
import type { ApplyOutcome } from "../cli/loop";
import type { Logger } from "../log";
import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import {
  type ActiveFailover,
  type Alert,
  type FailoverMode,
  failoverStateOf,
  planFailover,
  sameFailoverState,
} from "./failover-plan";
import type { LinkState, Transition } from "../../core/health/link-state";
import type { FailoverEvent, SwitchTimings } from "../../core/protocol/health-report";

export type { FailoverEvent, SwitchTimings };

/**
 * Local failover: the one owner of the gateway's failover state. It applies every spec from the
 * console with the failover state that spec and the links' health call for, and when a link
 * changes state it switches on its own, without the console: re-render the running spec with the
 * new state, load it (one `nft -f`), flush the failed ISP's connections (one conntrack call by
 * mark) so clients reconnect through the backup at once, and tell the console what it did.
 *
 * Everything that touches the datapath runs one at a time, in order.
 */

export type EventKind = FailoverEvent["kind"];

export interface ControllerDeps {
  /** every change of kernel state goes through the datapath */
  datapath: Datapath;
  /** the links' measured states */
  health: () => ReadonlyMap<string, LinkState>;
  log: Logger;
  onEvent: (event: FailoverEvent) => void;
  /** after every change of the datapath's failover state, so the console hears at once */
  onSwitched?: () => void;
  /** as soon as a spec's ruleset is in the kernel, before connections are flushed */
  onLoaded?: (spec: GatewaySpec, ms: number) => void;
  now?: () => number;
  newId?: () => string;
}

export interface ControllerSnapshot {
  active: ReadonlyMap<string, ActiveFailover>;
  alerts: readonly Alert[];
  held: ReadonlySet<string>;
}

interface Cause {
  decidedAt: number;
  /** the transition that made the decision, per ISP */
  transitions: ReadonlyMap<string, Transition>;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export class FailoverController {
  private spec: GatewaySpec | null = null;
  private active = new Map<string, ActiveFailover>();
  /** ISP id -> failover epoch of the running spec when the agent failed it over (manual failback) */
  private readonly held = new Map<string, number>();
  private alerts: Alert[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private reevaluateQueued = false;
  private readonly recent = new Map<string, Transition>();
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.newId = deps.newId ?? randomUUID;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Resolves once everything handed to the controller so far has run. */
  async idle(): Promise<void> {
    await this.queue;
  }

  snapshot(): ControllerSnapshot {
    return { active: new Map(this.active), alerts: [...this.alerts], held: new Set(this.held.keys()) };
  }

  /** The running spec's key, for reports. */
  running(): GatewaySpec | null {
    return this.spec;
  }

  /** Applies a spec from the console (or the saved last good one) with the failover state it calls for. */
  applySpec(spec: GatewaySpec): Promise<ApplyOutcome> {
    return this.serial(() => this.applyNow(spec));
  }

  /** Routing or addresses of the running spec may have gone (link or address events): add them back. */
  restoreRouting(): Promise<void> {
    return this.serial(async () => {
      if (this.spec === null) return;
      const r = await this.deps.datapath.restoreRouting(this.spec);
      if (r.changes.length > 0) this.deps.log.info({ changes: r.changes }, "restored routing and addresses");
      if (r.errors.length > 0) this.deps.log.warn({ errors: r.errors }, "could not restore routing");
    });
  }

  /** A link changed state: decide again, and switch if the decision changed. */
  healthChanged(ispId: string, transition: Transition): void {
    this.recent.set(ispId, transition);
    if (this.reevaluateQueued) return;
    this.reevaluateQueued = true;
    void this.serial(async () => {
      this.reevaluateQueued = false;
      await this.reevaluate();
    }).catch((e: unknown) => this.deps.log.error({ err: e }, "local failover failed"));
  }

  private releaseHolds(spec: GatewaySpec): void {
    const byId = new Map(spec.isps.map((i) => [i.id, i]));
    for (const [id, epoch] of this.held) {
      const isp = byId.get(id);
      if (isp === undefined || isp.failoverMode !== "automatic" || (isp.restoredEpoch ?? 0) > epoch) {
        this.held.delete(id);
      }
    }
  }

  private plan(spec: GatewaySpec) {
    const ids = new Set(spec.isps.map((i) => i.id));
    const previous = new Map([...this.active].filter(([id]) => ids.has(id)));
    return planFailover({
      spec,
      health: this.deps.health(),
      previous,
      held: new Set(this.held.keys()),
      now: this.now(),
    });
  }

  private async applyNow(spec: GatewaySpec): Promise<ApplyOutcome> {
    const decidedAt = this.now();
    this.releaseHolds(spec);
    const plan = this.plan(spec);
    const state = failoverStateOf(plan.active);
    // an operator's failover or restore changes nothing but the failover state: routing is the
    // same for every failover state (core/render/routes.ts), so one nft load does it
    if (this.spec !== null && this.deps.datapath.canSwitchQuickly() && sameButFailover(this.spec, spec)) {
      const switched = await this.deps.datapath.switchFailover(spec, state);
      if (switched.loaded) {
        this.spec = spec;
        this.deps.onLoaded?.(spec, this.now() - decidedAt);
        await this.commit(spec, plan.active, plan.alerts, { decidedAt, transitions: new Map() }, switched.ms);
        return switched.full === null
          ? {
              ok: true,
              loaded: true,
              error: "",
              durationsMs: { applyMs: round1(switched.ms), totalMs: round1(this.now() - decidedAt) },
            }
          : outcomeOf(switched.full);
      }
      return outcomeOf(switched.full ?? undefined, switched.error ?? "failed");
    }
    const r = await this.deps.datapath.apply(spec, state);
    if (r.loaded) {
      this.spec = spec;
      this.deps.onLoaded?.(spec, this.now() - decidedAt);
      await this.commit(spec, plan.active, plan.alerts, { decidedAt, transitions: new Map() }, r.durations.totalMs);
    }
    return outcomeOf(r);
  }

  private async reevaluate(): Promise<void> {
    const spec = this.spec;
    if (spec === null) return;
    const decidedAt = this.now();
    const transitions = new Map(this.recent);
    this.recent.clear();
    const plan = this.plan(spec);
    const before = failoverStateOf(this.active);
    const after = failoverStateOf(plan.active);
    if (sameFailoverState(before, after)) {
      await this.commit(spec, plan.active, plan.alerts, { decidedAt, transitions }, 0);
      return;
    }
    const t0 = this.now();
    const loaded = await this.switchRules(spec, after);
    if (loaded.ok) {
      await this.commit(spec, plan.active, plan.alerts, { decidedAt, transitions }, this.now() - t0);
      return;
    }
    // the datapath refused: nothing changed on the gateway, so the decision is not in force
    this.deps.log.error({ error: loaded.error }, "could not switch the failover state; the rules stay as they were");
    for (const [id, f] of plan.active) {
      if (this.active.get(id)?.backupIspId === f.backupIspId) continue;
      const isp = spec.isps.find((i) => i.id === id);
      if (isp === undefined) continue;
      this.deps.onEvent(
        this.event(spec, "failover", isp, this.active.get(id)?.backupIspId ?? null, f.backupIspId, f.mode, {
          reason: transitions.get(id)?.reason ?? "",
          timings: null,
          ok: false,
          error: loaded.error,
        }),
      );
    }
  }

  /** Loads the running spec with another failover state. */
  private async switchRules(spec: GatewaySpec, state: FailoverState): Promise<{ ok: boolean; error: string }> {
    const r = await this.deps.datapath.switchFailover(spec, state);
    return { ok: r.loaded, error: r.error ?? "" };
  }

  /** Makes a decision that is now in the kernel official: flush, hold, alerts and events. */
  private async commit(
    spec: GatewaySpec,
    next: Map<string, ActiveFailover>,
    alerts: Alert[],
    cause: Cause,
    applyMs: number,
  ): Promise<void> {
    const byId = new Map(spec.isps.map((i) => [i.id, i]));
    const previous = this.active;
    this.active = next;
    let switched = false;
    const pending: Array<{ id: string; failover: boolean; event: FailoverEvent }> = [];
    const ids = new Set([...previous.keys(), ...next.keys()]);
    for (const id of [...ids].sort((a, b) => (byId.get(a)?.index ?? 0) - (byId.get(b)?.index ?? 0))) {
      const before = previous.get(id);
      const after = next.get(id);
      const isp = byId.get(id);
      if (isp === undefined || before?.backupIspId === after?.backupIspId) continue;
      switched = true;
      const flushStart = this.now();
      let flushed = 0;
      let error = "";
      if (after !== undefined) {
        // connections leaving through the failed ISP, or through a backup that is being left
        const from = before === undefined ? isp : byId.get(before.backupIspId);
        if (from !== undefined) {
          const f =
            before === undefined
              ? await this.deps.datapath.flushIsp(from.index)
              : await this.deps.datapath.flushFailedOver(from.index);
          flushed = f.deleted;
          error = f.error ?? "";
        }
      } else if (before !== undefined && isp.flushOnFailback) {
        const backup = byId.get(before.backupIspId);
        if (backup !== undefined) {
          const f = await this.deps.datapath.flushFailedOver(backup.index);
          flushed = f.deleted;
          error = f.error ?? "";
        }
      }
      if (after === undefined) this.held.delete(id);
      const done = this.now();
      const transition = cause.transitions.get(id);
      const mode = after?.mode ?? before?.mode ?? "automatic";
      const timings: SwitchTimings = {
        detectMs:
          transition !== undefined && transition.to === "down" && transition.lastGoodAt !== null
            ? transition.at - transition.lastGoodAt
            : null,
        applyMs: round1(applyMs),
        flushMs: round1(done - flushStart),
        switchMs: round1(done - cause.decidedAt),
        flushed,
      };
      const reason = this.reasonFor(spec, isp, before, after, transition);
      const nameOf = (id: string | undefined) => (id === undefined ? null : (byId.get(id)?.name ?? id));
      this.deps.log.info(
        { isp: isp.name, from: nameOf(before?.backupIspId), to: nameOf(after?.backupIspId), mode, reason, timings },
        after === undefined ? "failed back" : "failed over",
      );
      if (error !== "") this.deps.log.warn({ isp: isp.name, error }, "conntrack flush failed");
      pending.push({
        id,
        failover: after !== undefined,
        event: this.event(
          spec,
          after === undefined ? "failback" : "failover",
          isp,
          before?.backupIspId ?? null,
          after?.backupIspId ?? null,
          mode,
          { reason, timings, ok: true, error },
        ),
      });
    }
    // a failover counts as applied only when the kernel routes the moved traffic through the
    // backup (an operator ip rule before Gatehouse's can keep it on the failed ISP); checked
    // once the connections are flushed, so the check never delays the switch
    const routeCheck = pending.some((p) => p.failover) ? await this.checkRoutes(spec, next) : new Map();
    for (const p of pending) {
      const problems: string[] = p.failover ? (routeCheck.get(p.id) ?? []) : [];
      if (problems.length > 0) {
        this.deps.log.error({ isp: p.event.ispName, problems }, "failover loaded but not in effect");
        p.event.ok = false;
        p.event.error = `not in effect: ${problems.join("; ")}`.slice(0, 2000);
      }
      this.deps.onEvent(p.event);
    }
    // an automatic failover with manual failback stays until an operator restores it
    for (const [id, f] of next) {
      const isp = byId.get(id);
      if (f.mode === "automatic" && isp?.failbackMode === "manual" && !this.held.has(id)) {
        this.held.set(id, spec.failoverEpoch);
      }
    }
    this.updateAlerts(spec, alerts);
    if (switched) this.deps.onSwitched?.();
  }

  /** Per failed-over ISP, what keeps its traffic from the backup (empty: in effect). */
  private async checkRoutes(spec: GatewaySpec, next: Map<string, ActiveFailover>): Promise<Map<string, string[]>> {
    try {
      return (await this.deps.datapath.verifyFailover(spec, failoverStateOf(next))).problems;
    } catch (e) {
      const message = `could not check the routes: ${e instanceof Error ? e.message : String(e)}`;
      return new Map([...next.keys()].map((id) => [id, [message]]));
    }
  }

  private reasonFor(
    spec: GatewaySpec,
    isp: SpecIsp,
    before: ActiveFailover | undefined,
    after: ActiveFailover | undefined,
    transition: Transition | undefined,
  ): string {
    const name = (id: string | undefined) => spec.isps.find((i) => i.id === id)?.name ?? id ?? "";
    if (after?.mode === "admin" || (after === undefined && before?.mode === "admin")) {
      return after === undefined
        ? `restored by an operator (failover epoch ${spec.failoverEpoch})`
        : `failed over by an operator (failover epoch ${spec.failoverEpoch})`;
    }
    if (after !== undefined && before !== undefined) return `backup ${name(before.backupIspId)} can no longer be used`;
    if (after === undefined && isp.failbackMode === "manual" && isp.failoverMode === "automatic") {
      return `restored by an operator (failover epoch ${spec.failoverEpoch})`;
    }
    return transition === undefined ? `${isp.name} is ${after === undefined ? "up" : "down"}` : transition.reason;
  }

  private updateAlerts(spec: GatewaySpec, alerts: Alert[]): void {
    const key = (a: Alert) => `${a.ispId}\u0000${a.kind}`;
    const before = new Map(this.alerts.map((a) => [key(a), a]));
    const after = new Map(alerts.map((a) => [key(a), a]));
    this.alerts = alerts;
    const byId = new Map(spec.isps.map((i) => [i.id, i]));
    for (const [k, a] of after) {
      if (before.has(k)) continue;
      const isp = byId.get(a.ispId);
      if (isp === undefined) continue;
      this.deps.log.warn({ isp: isp.name }, a.message);
      this.deps.onEvent(
        this.event(spec, "alert", isp, null, null, "automatic", {
          reason: a.message,
          timings: null,
          ok: true,
          error: "",
        }),
      );
    }
    for (const [k, a] of before) {
      if (after.has(k)) continue;
      const isp = byId.get(a.ispId);
      if (isp === undefined) continue;
      this.deps.onEvent(
        this.event(spec, "alert_cleared", isp, null, null, "automatic", {
          reason: `no longer: ${a.message}`,
          timings: null,
          ok: true,
          error: "",
        }),
      );
    }
  }

  private event(
    spec: GatewaySpec,
    kind: EventKind,
    isp: SpecIsp,
    fromIspId: string | null,
    toIspId: string | null,
    mode: FailoverMode,
    rest: Pick<FailoverEvent, "reason" | "timings" | "ok" | "error">,
  ): FailoverEvent {
    return {
      id: this.newId(),
      kind,
      ispId: isp.id,
      ispName: isp.name,
      fromIspId,
      toIspId,
      mode,
      at: new Date(this.now()).toISOString(),
      revision: spec.revision,
      failoverEpoch: spec.failoverEpoch,
      ...rest,
    };
  }
}

/** Two specs that differ at most in failover state (epoch, admin states, restores). */
export function sameButFailover(a: GatewaySpec, b: GatewaySpec): boolean {
  const strip = (s: GatewaySpec) => ({
    ...s,
    failoverEpoch: 0,
    isps: s.isps.map(({ adminState: _a, adminBackupIspId: _b, restoredEpoch: _r, ...rest }) => rest),
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** What the run loop hears of an apply. */
function outcomeOf(r: ApplyResult | undefined, error = "failed"): ApplyOutcome {
  if (r === undefined) return { ok: false, loaded: false, error, durationsMs: {} };
  const durationsMs: Record<string, number> = {};
  for (const [phase, ms] of Object.entries(r.durations)) durationsMs[phase] = round1(ms);
  const where = r.stage === null ? "" : `${r.stage}: `;
  return { ok: r.ok, loaded: r.loaded, error: r.ok ? "" : `${where}${r.error ?? "failed"}`, durationsMs };
}

import { type HealthCounter, INITIAL_HEALTH, nextHealth } from "../../core/health/real-server-health";
import type { VirtualServiceStatus } from "../../core/protocol/virtual-service-status";
import { realServerKey } from "../../core/render/vs-schedule";
import type { GatewaySpec } from "../../core/spec/schema";
import type { SpecVirtualService } from "../../core/spec/virtual-services";
import type { RunCheck } from "./checks";

/**
 * Checks every real server of the running spec's virtual services on its service's interval and
 * takes a server out of its service's bucket map after `fall` failed checks in a row (so within
 * interval x fall of it failing), and puts it back after `rise` good ones: locally, without the
 * console, by rewriting that one service's chain and map (Datapath.updateVirtualService).
 */

export interface HealthCheckerDeps {
  runCheck: RunCheck;
  /** puts the service's new set of usable servers into the kernel; resolves to an error text or null */
  update(
    spec: GatewaySpec,
    serviceId: string,
    down: ReadonlySet<string>,
    dropPersistence: boolean,
  ): Promise<string | null>;
  /** called after a server's health changed (the loop sends a status report) */
  onChange?(serviceId: string): void;
  log?(message: string): void;
  now?: () => Date;
}

interface ServerState {
  counter: HealthCounter;
  since: string | null;
  lastError: string;
  /** the check settings it was counted under: other settings start afresh */
  checkKey: string;
}

export class VirtualServiceHealthChecker {
  private spec: GatewaySpec | null = null;
  private readonly servers = new Map<string, ServerState>();
  private timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<string>();

  constructor(private readonly deps: HealthCheckerDeps) {}

  /** The real servers that are down now (realServerKey), for full ruleset loads. */
  down(): Set<string> {
    const out = new Set<string>();
    for (const [key, s] of this.servers) if (s.counter.health === "down") out.add(key);
    return out;
  }

  /**
   * Follows a new running spec: keeps the state of servers whose check did not change, and checks
   * every server at once (the promise settles when those first checks are done).
   */
  setSpec(spec: GatewaySpec): Promise<void> {
    this.stopTimers();
    const first: Array<Promise<void>> = [];
    this.spec = spec;
    const keep = new Set<string>();
    for (const service of spec.virtualServices) {
      if (service.healthCheck.kind === "none") continue;
      const checkKey = JSON.stringify(service.healthCheck);
      for (const rs of service.realServers) {
        const key = realServerKey(service, rs);
        keep.add(key);
        const known = this.servers.get(key);
        if (known === undefined || known.checkKey !== checkKey) {
          this.servers.set(key, { counter: INITIAL_HEALTH, since: null, lastError: "", checkKey });
        }
      }
      const timer = setInterval(() => void this.round(service), service.healthCheck.intervalMs);
      timer.unref?.();
      this.timers.push(timer);
      first.push(this.round(service));
    }
    for (const key of [...this.servers.keys()]) if (!keep.has(key)) this.servers.delete(key);
    return Promise.all(first).then(() => undefined);
  }

  stop(): void {
    this.stopTimers();
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** One check of every real server of a service; a round still running is not started again. */
  async round(service: SpecVirtualService): Promise<void> {
    const spec = this.spec;
    if (spec === null || this.running.has(service.id)) return;
    this.running.add(service.id);
    try {
      const check = service.healthCheck;
      const results = await Promise.all(
        service.realServers.map(async (rs) => {
          const port = rs.port ?? service.port;
          if (port === null) return null;
          return { key: realServerKey(service, rs), error: await this.deps.runCheck(check, rs.address, port) };
        }),
      );
      if (this.spec !== spec) return;
      let wentDown = false;
      let changed = false;
      for (const r of results) {
        if (r === null) continue;
        const state = this.servers.get(r.key);
        if (state === undefined) continue;
        const step = nextHealth(state.counter, r.error === null, check);
        state.counter = step.next;
        state.lastError = r.error ?? "";
        if (step.changed) {
          changed = true;
          state.since = (this.deps.now?.() ?? new Date()).toISOString();
          if (step.next.health === "down") wentDown = true;
          this.deps.log?.(
            `virtual service ${service.name}: real server ${r.key.split("|").slice(1).join(":")} is ${step.next.health}${r.error ? ` (${r.error})` : ""}`,
          );
        }
      }
      if (!changed) return;
      const error = await this.deps.update(spec, service.id, this.down(), wentDown);
      if (error !== null) this.deps.log?.(`virtual service ${service.name}: update refused: ${error}`);
      this.deps.onChange?.(service.id);
    } finally {
      this.running.delete(service.id);
    }
  }

  /** Each service's real servers with their health, for the status report. */
  status(): VirtualServiceStatus[] {
    const spec = this.spec;
    if (spec === null) return [];
    return spec.virtualServices.map((service) => ({
      serviceId: service.id,
      realServers: service.realServers.map((rs) => {
        const state = service.healthCheck.kind === "none" ? undefined : this.servers.get(realServerKey(service, rs));
        return {
          address: rs.address,
          port: rs.port ?? service.port,
          health: state === undefined ? ("unchecked" as const) : state.counter.health,
          since: state?.since ?? null,
          lastError: (state?.lastError ?? "").slice(0, 200),
        };
      }),
    }));
  }
}

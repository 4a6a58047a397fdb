import { type ExistingObjects, type RuleCountElement, renderNft } from "../../core/render/nft";
import { RenderError } from "../../core/render/plan";
import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { type ApplyResult, applySpec } from "./apply-spec";
import { type FlushResult, flushFailedOverConnections, flushIspConnections } from "./conntrack";
import { loadRulesetText } from "./nft";
import type { NftShell } from "./nft-shell";
import { renderServiceUpdate } from "../../core/render/virtual-services";
import { renderRoutes } from "../../core/render/routes";
import { checkFailoverRoutes, type RouteCheck } from "./route-check";
import { checkRuleConflicts, type RuleConflictCheck } from "./rule-conflicts";
import { reconcileRouting, type RoutingResult } from "./routes";
import type { CommandRunner } from "./runner";

/**
 * The one owner of the gateway's kernel state: every nft load, ip rule, route and conntrack flush
 * the agent makes goes through here (and the apply/ modules it calls). Callers decide what the
 * datapath should be; this says how it gets there.
 *
 * It remembers which chains, maps and sets the last load put into the policy table, so a change
 * of failover state alone (routing is the same for every failover state: core/render/routes.ts)
 * is one render and one load, without listing the table again: through a long-lived `nft -i`
 * when one is given (nft-shell.ts, a few milliseconds), else one `nft -f -`. Each apply renders
 * the spec once.
 */

export interface SwitchResult {
  ok: boolean;
  /** the ruleset for the new failover state is in the kernel */
  loaded: boolean;
  /** the quick path was refused and a full apply ran instead (its result), or null */
  full: ApplyResult | null;
  error: string | null;
  ms: number;
}

export interface DatapathDeps {
  runner: CommandRunner;
  tmpDir?: string;
  /** the full apply; a test may fake it */
  apply?: (spec: GatewaySpec, failover: FailoverState) => Promise<ApplyResult>;
  warn?: (message: string, error: string) => void;
  /** a long-lived nft for the quick loads; without it each quick load runs `nft -f -` */
  shell?: NftShell;
}

/** The keys of the rules' counter set under one loaded ruleset (Datapath.ruleCounterKeys). */
export interface RuleCounterKeys {
  readonly from: readonly RuleCountElement[];
  readonly keys: ReadonlyMap<number, string>;
  readonly rules: readonly string[];
}

export class Datapath {
  private loaded: ExistingObjects | undefined;
  private keys: RuleCounterKeys | null = null;
  /** real servers the health checker took out: every load keeps them out */
  private vsDown: ReadonlySet<string> = new Set();
  private readonly fullApply: (spec: GatewaySpec, failover: FailoverState) => Promise<ApplyResult>;

  constructor(private readonly deps: DatapathDeps) {
    this.fullApply =
      deps.apply ??
      ((spec, failover) =>
        applySpec(spec, failover, {
          runner: deps.runner,
          tmpDir: deps.tmpDir,
          virtualServicesDown: this.vsDown,
          ruleCounts: this.loaded?.ruleCounts,
        }));
  }

  /** Check, add routing, load once, prune (apply-spec.ts); remembers what was loaded. */
  async apply(spec: GatewaySpec, failover: FailoverState): Promise<ApplyResult> {
    const r = await this.fullApply(spec, failover);
    if (r.loaded) this.loaded = r.objects ?? undefined;
    return r;
  }

  /**
   * Loads a spec whose routing is already in place with another failover state: one `nft -f`
   * (one transaction, all or nothing), falling back to a full apply when the quick load is not
   * possible or nft refuses it.
   */
  async switchFailover(spec: GatewaySpec, failover: FailoverState): Promise<SwitchResult> {
    const started = performance.now();
    const quick = await this.quickLoad(spec, failover);
    if (quick === null) {
      const full = await this.apply(spec, failover);
      return {
        ok: full.ok,
        loaded: full.loaded,
        full,
        error: full.loaded ? null : `${full.stage}: ${full.error}`,
        ms: performance.now() - started,
      };
    }
    return { ok: true, loaded: true, full: null, error: null, ms: performance.now() - started };
  }

  /**
   * Which rule each key of the rules' counter set counts under the ruleset this process loaded
   * last, and every rule it counts; null before the first load.
   */
  ruleCounterKeys(): RuleCounterKeys | null {
    const elements = this.loaded?.ruleCounts;
    if (elements === undefined) return null;
    if (this.keys?.from !== elements) {
      const keys = new Map(elements.map((e) => [e.key, e.ruleId]));
      this.keys = { from: elements, keys, rules: [...new Set(keys.values())] };
    }
    return this.keys;
  }

  /** Whether the quick path is open: something was loaded and its objects are known. */
  canSwitchQuickly(): boolean {
    return this.loaded !== undefined;
  }

  private async quickLoad(spec: GatewaySpec, failover: FailoverState): Promise<true | null> {
    if (this.loaded === undefined) return null;
    let rendered: ReturnType<typeof renderNft>;
    try {
      rendered = renderNft(spec, failover, this.loaded, this.vsDown);
    } catch (e) {
      if (e instanceof RenderError) return null;
      throw e;
    }
    const error = this.deps.shell
      ? (await this.deps.shell.load(rendered.text, rendered.fingerprint)).error
      : await loadRulesetText(this.deps.runner, rendered.text);
    if (error !== null) {
      this.deps.warn?.("quick load refused; applying in full", error);
      return null;
    }
    this.loaded = {
      chains: rendered.chains,
      maps: rendered.maps,
      sets: rendered.sets,
      ruleCounts: rendered.ruleCounts,
    };
    return true;
  }

  /** Ends the long-lived nft, if there is one. */
  close(): void {
    this.deps.shell?.stop();
  }

  /**
   * A virtual service's usable real servers changed (the health checker): one small transaction
   * rewrites that service's chain and bucket map, nothing else. Returns nft's error or null.
   */
  async updateVirtualService(
    spec: GatewaySpec,
    serviceId: string,
    down: ReadonlySet<string>,
    dropPersistence: boolean,
  ): Promise<string | null> {
    this.vsDown = new Set(down);
    if (this.loaded === undefined) return null;
    return loadRulesetText(this.deps.runner, renderServiceUpdate(spec, serviceId, down, { dropPersistence }));
  }

  /** Whether the kernel routes failed-over traffic through the backups (route-check.ts). */
  verifyFailover(spec: GatewaySpec, failover: FailoverState): Promise<RouteCheck> {
    return checkFailoverRoutes(this.deps.runner, spec, failover);
  }

  /** Operator ip rules that would override Gatehouse's reroute rules (rule-conflicts.ts). */
  ruleConflicts(spec: GatewaySpec): Promise<RuleConflictCheck> {
    return checkRuleConflicts(
      this.deps.runner,
      renderRoutes(spec),
      spec.isps.map((i) => i.interface),
    );
  }

  /**
   * Puts back routing and on-link addresses the running spec needs that something removed (an
   * interface that went down and came back loses its routes; someone deleted an address): the
   * reconciler's add phase, which changes nothing when everything is in place.
   */
  restoreRouting(spec: GatewaySpec): Promise<RoutingResult> {
    return reconcileRouting(this.deps.runner, renderRoutes(spec), "add");
  }

  /** Every connection leaving through the ISP with this index. */
  flushIsp(ispIndex: number): Promise<FlushResult> {
    return flushIspConnections(this.deps.runner, ispIndex);
  }

  /** The connections a failover moved to this backup ISP. */
  flushFailedOver(backupIspIndex: number): Promise<FlushResult> {
    return flushFailedOverConnections(this.deps.runner, backupIspIndex);
  }
}

import { type ExistingObjects, type RuleCountElement, renderNft } from "../../core/render/nft";
import { RenderError } from "../../core/render/plan";
import { renderRoutes } from "../../core/render/routes";
import type { FailoverState } from "../../core/spec/decide";
import { type GatewaySpec, zGatewaySpec } from "../../core/spec/schema";
import { checkRuleset, listOwnedObjects, loadRuleset } from "./nft";
import { reconcileRouting } from "./routes";
import type { CommandRunner } from "./runner";

/**
 * Applies a desired state to the gateway: validate the spec, render it, check the ruleset
 * against the kernel, make sure the routing it needs exists, load it in one transaction, then
 * remove routing nobody needs any more. A failure before the load leaves the gateway's ruleset
 * exactly as it was (fail-static): routing that cannot be added (an ISP interface missing on this
 * gateway, say) stops the apply before the load, because a ruleset naming the wrong interfaces
 * would stop classifying, NATing and guarding the real uplinks. Only pruning errors come after it.
 */

export type ApplyStage = "validate" | "render" | "list" | "check" | "apply" | "verify" | "routes";

export interface ApplyDurations {
  validateMs: number;
  renderMs: number;
  checkMs: number;
  applyMs: number;
  verifyMs: number;
  routesMs: number;
  totalMs: number;
}

export interface ApplyResult {
  ok: boolean;
  /** where it failed, null on success */
  stage: ApplyStage | null;
  /** nft's own error text, the validation issues, or the routing errors */
  error: string | null;
  revision: number | null;
  failoverEpoch: number | null;
  fingerprint: number | null;
  /** the new ruleset is in the kernel (true on success, and when only pruning old routing failed) */
  loaded: boolean;
  /** what the load put in the policy table (the next quick load needs it), null when nothing was loaded */
  objects: ExistingObjects | null;
  routeChanges: string[];
  durations: ApplyDurations;
}

export interface ApplyDeps {
  runner: CommandRunner;
  tmpDir?: string;
  /** real servers the health checker has taken out (core/render/vs-schedule.ts realServerKey) */
  virtualServicesDown?: ReadonlySet<string>;
  /**
   * which rule each counter key stood for in the ruleset this process loaded last (the kernel's
   * counter set does not say); absent: not known, and the load empties the counter set
   */
  ruleCounts?: readonly RuleCountElement[];
}

function since(t: number): number {
  return performance.now() - t;
}

export async function applySpec(input: unknown, failover: FailoverState, deps: ApplyDeps): Promise<ApplyResult> {
  const t0 = performance.now();
  const durations: ApplyDurations = {
    validateMs: 0,
    renderMs: 0,
    checkMs: 0,
    applyMs: 0,
    verifyMs: 0,
    routesMs: 0,
    totalMs: 0,
  };
  const result: ApplyResult = {
    ok: false,
    stage: null,
    error: null,
    revision: null,
    failoverEpoch: null,
    fingerprint: null,
    loaded: false,
    objects: null,
    routeChanges: [],
    durations,
  };
  const fail = (stage: ApplyStage, error: string): ApplyResult => {
    durations.totalMs = since(t0);
    return { ...result, stage, error };
  };

  let t = performance.now();
  const parsed = zGatewaySpec.safeParse(input);
  durations.validateMs = since(t);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join(".") || "spec"}: ${i.message}`);
    return fail("validate", `invalid gateway spec: ${issues.join("; ")}`);
  }
  const spec: GatewaySpec = parsed.data;
  result.revision = spec.revision;
  result.failoverEpoch = spec.failoverEpoch;

  let existing: Awaited<ReturnType<typeof listOwnedObjects>>;
  try {
    existing = await listOwnedObjects(deps.runner);
    if (existing !== undefined && deps.ruleCounts !== undefined)
      existing = { ...existing, ruleCounts: deps.ruleCounts };
  } catch (e) {
    return fail("list", e instanceof Error ? e.message : String(e));
  }

  t = performance.now();
  let rendered: ReturnType<typeof renderNft>;
  try {
    rendered = renderNft(spec, failover, existing, deps.virtualServicesDown);
  } catch (e) {
    if (e instanceof RenderError) return fail("render", e.message);
    throw e;
  }
  const routing = renderRoutes(spec);
  durations.renderMs = since(t);
  result.fingerprint = rendered.fingerprint;

  // check before touching anything, so a bad ruleset changes nothing at all
  t = performance.now();
  const checkError = await checkRuleset(deps.runner, rendered.text, { tmpDir: deps.tmpDir });
  durations.checkMs = since(t);
  if (checkError !== null) return fail("check", checkError);

  t = performance.now();
  const added = await reconcileRouting(deps.runner, routing, "add");
  durations.routesMs += since(t);
  if (added.errors.length > 0) {
    result.routeChanges = added.changes;
    return fail("routes", added.errors.join("\n"));
  }

  const load = await loadRuleset(deps.runner, rendered, { tmpDir: deps.tmpDir, skipCheck: true });
  durations.applyMs = load.applyMs;
  durations.verifyMs = load.verifyMs;
  if (!load.ok) return fail(load.stage ?? "apply", load.error ?? "nft failed");
  result.loaded = true;
  result.objects = {
    chains: rendered.chains,
    maps: rendered.maps,
    sets: rendered.sets,
    ruleCounts: rendered.ruleCounts,
  };

  t = performance.now();
  const pruned = await reconcileRouting(deps.runner, routing, "prune");
  durations.routesMs += since(t);
  result.routeChanges = [...added.changes, ...pruned.changes];
  if (pruned.errors.length > 0) return fail("routes", pruned.errors.join("\n"));

  durations.totalMs = since(t0);
  return { ...result, ok: true };
}

import { applySpec } from "../apply/apply-spec";
import type { CommandRunner } from "../apply/runner";
import { adminFailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import type { ApplyOutcome } from "./loop";

/**
 * The loop's view of the datapath: one call that applies a spec with the failover state it
 * carries. The agent's own automatic failover decisions will join the admin ones here.
 */
export function datapathApplier(runner: CommandRunner, tmpDir?: string): (spec: GatewaySpec) => Promise<ApplyOutcome> {
  return async (spec) => {
    const r = await applySpec(spec, adminFailoverState(spec), { runner, tmpDir });
    const durationsMs: Record<string, number> = {};
    for (const [phase, ms] of Object.entries(r.durations)) durationsMs[phase] = Math.round(ms * 10) / 10;
    const where = r.stage === null ? "" : `${r.stage}: `;
    return {
      ok: r.ok,
      loaded: r.loaded,
      error: r.ok ? "" : `${where}${r.error ?? "failed"}`,
      durationsMs,
    };
  };
}

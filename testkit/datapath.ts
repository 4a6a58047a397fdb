import { expect } from "vitest";
import { type ApplyResult, applySpec } from "../agent/apply/apply-spec";
import { compileGatewaySpec } from "../core/policy/compile";
import type { Policy } from "../core/policy/model";
import { entry, gatewaySpec, isp, pool } from "./spec-fixtures";
import type { FailoverState, Packet } from "../core/spec/decide";
import type { GatewaySpec, SpecEntry } from "../core/spec/schema";
import type { RuleCountElement } from "../core/render/nft";
import type { Lab } from "./lab/lab";

export { entry };

/**
 * Specs for the lab: ISP a (index 1, the gateway's default route) and ISP b (index 2) back each
 * other up. Pools sit in the ranges each ISP routes back to the gateway.
 */
export const POOLS = {
  pa: ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"],
  pa2: ["198.51.100.20", "198.51.100.21"],
  pb: ["198.51.100.130", "198.51.100.131"],
  pbf: ["198.51.100.140"],
};

export function labSpec(
  lab: Lab,
  entries: Array<Omit<SpecEntry, "rulePosition">>,
  opts: { unmatched?: "drop" | "forward"; revision?: number; hashSeed?: number } = {},
): GatewaySpec {
  return gatewaySpec({
    isps: [
      isp("a", 1, lab.ispA.gatewayInterface, lab.ispA.nextHop, [{ ispId: "b", defaultPoolId: "pb" }]),
      isp("b", 2, lab.ispB.gatewayInterface, lab.ispB.nextHop, [{ ispId: "a", defaultPoolId: "pa" }]),
    ],
    pools: [
      pool("pa", "a", POOLS.pa),
      pool("pa2", "a", POOLS.pa2),
      pool("pb", "b", POOLS.pb),
      pool("pbf", "b", POOLS.pbf),
    ],
    entries,
    ...opts,
  });
}

/** what the last applyOk in each lab loaded: which rule each key of the rules' counter set counts */
const loadedRuleCounts = new WeakMap<Lab, readonly RuleCountElement[]>();

/**
 * Applies a spec to the lab's gateway as the agent does, keeping (as the agent's Datapath does)
 * which rule each counter key stood for, so that the next load keeps the counters that stay.
 */
export async function applyOk(lab: Lab, spec: GatewaySpec, failover: FailoverState = new Map()): Promise<ApplyResult> {
  const r = await applySpec(spec, failover, {
    runner: lab.runner(lab.ns.gateway),
    ruleCounts: loadedRuleCounts.get(lab),
  });
  expect(r.error).toBeNull();
  expect(r.ok).toBe(true);
  if (r.objects?.ruleCounts !== undefined) loadedRuleCounts.set(lab, r.objects.ruleCounts);
  return r;
}

/** Which rule each key of the rules' counter set counts under the last applyOk's ruleset, and every rule counted. */
export function loadedRuleCounterKeys(lab: Lab): { keys: Map<number, string>; rules: string[] } {
  const keys = new Map((loadedRuleCounts.get(lab) ?? []).map((e) => [e.key, e.ruleId]));
  return { keys, rules: [...new Set(keys.values())] };
}

/** The pool an address belongs to, by name, for readable assertions. */
export function poolOf(address: string | undefined): string | null {
  for (const [name, list] of Object.entries(POOLS)) if (address !== undefined && list.includes(address)) return name;
  return null;
}

export function packet(
  src: string,
  dst: string,
  protocol: Packet["protocol"],
  routedIspId: string | null,
  srcPort?: number,
  dstPort?: number,
): Packet {
  return { src, dst, protocol, srcPort, dstPort, routedIspId };
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("the datapath tests create network namespaces: run them as root");
}

/** A policy compiled for the lab's one gateway, with no failover in force. */
export function compileLabSpec(policy: Policy, revision: number): GatewaySpec {
  return compileGatewaySpec({
    policy,
    revision,
    clusterId: "lab",
    clusterName: "lab",
    gateway: { id: "gw1", name: "gw1" },
    failover: [],
    failoverEpoch: 0,
  });
}

/** Runs the built agent once in the lab's gateway namespace and collects what it said. */
export async function runAgentOnce(
  lab: Lab,
  agentFile: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = lab.spawn(lab.ns.gateway, [process.execPath, agentFile, ...args]);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

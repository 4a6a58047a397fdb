import {
  type GatewaySpec,
  SPEC_VERSION,
  type SpecEntry,
  type SpecIsp,
  type SpecPool,
  zGatewaySpec,
} from "../spec/schema";
import type { Policy, Pool } from "./model";
import { bigIntToIPv4, parseAddressRange } from "../address";
import { compileVirtualServices } from "./compile-virtual-services";
import { orderEntries, orderRules } from "./order";
import { describeIssue, type PolicyIssue, validatePolicy } from "./validate";

/**
 * Compiles a published policy plus the cluster's failover state into the GatewaySpec one gateway
 * receives. The result is checked against zGatewaySpec, so an agent is never sent a spec it
 * would refuse.
 */

export interface IspFailover {
  ispId: string;
  adminState: "active" | "failed_over";
  /** the backup an operator chose; null: the first healthy backup */
  backupIspId: string | null;
  /** the failover epoch of the ISP's last restore (releases failovers agents hold) */
  restoredEpoch?: number;
}

export interface CompileInput {
  policy: Policy;
  revision: number;
  clusterId: string;
  clusterName: string;
  gateway: { id: string; name: string };
  failover: readonly IspFailover[];
  failoverEpoch: number;
}

export class PolicyCompileError extends Error {
  readonly issues: PolicyIssue[];
  constructor(policy: Policy, issues: PolicyIssue[]) {
    const shown = issues.slice(0, 5).map((i) => describeIssue(policy, i));
    const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "";
    super(`the policy has ${issues.length} problem${issues.length === 1 ? "" : "s"}: ${shown.join("; ")}${more}`);
    this.name = "PolicyCompileError";
    this.issues = issues;
  }
}

/** Every address of a pool in numeric order, each once: index i is hash bucket i. */
export function poolAddresses(pool: Pool): string[] {
  const values = new Set<bigint>();
  for (const text of pool.addresses) {
    const r = parseAddressRange(text);
    if (!r.ok) throw new Error(`pool "${pool.name}": ${r.error}`);
    for (let v = r.value.start; v <= r.value.end; v++) values.add(v);
  }
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(bigIntToIPv4);
}

export function compileGatewaySpec(input: CompileInput): GatewaySpec {
  const { policy } = input;
  const issues = validatePolicy(policy);
  if (issues.length > 0) throw new PolicyCompileError(policy, issues);

  const ispsById = new Map(policy.isps.map((i) => [i.id, i]));
  // the latest word per ISP wins; failover rows of ISPs that no longer exist are ignored
  const failover = new Map(input.failover.filter((f) => ispsById.has(f.ispId)).map((f) => [f.ispId, f]));

  const isps: SpecIsp[] = [...policy.isps]
    .sort((a, b) => a.index - b.index)
    .map((isp) => {
      const f = failover.get(isp.id);
      // a chosen backup that has since left the plan falls back to the first healthy one
      const chosen = f?.backupIspId ?? null;
      return {
        id: isp.id,
        name: isp.name,
        index: isp.index,
        interface: isp.interface,
        nextHop: isp.nextHop,
        probeTargets: isp.probeTargets.length > 0 ? [...isp.probeTargets] : [isp.nextHop],
        monitor: { ...isp.monitor },
        failoverMode: isp.failoverMode,
        failbackMode: isp.failbackMode,
        flushOnFailback: isp.flushOnFailback,
        backups: isp.backupIspIds.map((id) => ({ ispId: id, defaultPoolId: ispsById.get(id)?.defaultPoolId ?? null })),
        adminState: f?.adminState ?? "active",
        adminBackupIspId: chosen !== null && isp.backupIspIds.includes(chosen) ? chosen : null,
        ...(f?.restoredEpoch ? { restoredEpoch: f.restoredEpoch } : {}),
      };
    });

  const pools: SpecPool[] = policy.pools.map((pool) => ({
    id: pool.id,
    name: pool.name,
    ispId: pool.ispId,
    mode: pool.mode,
    addresses: poolAddresses(pool),
    portRange: pool.portRange && { ...pool.portRange },
  }));

  const positions = new Map(orderRules(policy).map((r) => [r.rule.id, r.position]));
  const entries: SpecEntry[] = orderEntries(policy).map(({ rule, source, destination }) => ({
    ruleId: rule.id,
    rulePosition: positions.get(rule.id) ?? 0,
    source: source.text,
    destination: destination?.text ?? null,
    protocol: rule.protocol,
    egressIspId: rule.egressIspId,
    action: { ...rule.action },
    redirectIspId: rule.redirectIspId,
    fallbackPoolId: rule.fallbackPoolId,
  }));

  return zGatewaySpec.parse({
    specVersion: SPEC_VERSION,
    clusterId: input.clusterId,
    clusterName: input.clusterName,
    gatewayId: input.gateway.id,
    gatewayName: input.gateway.name,
    revision: input.revision,
    failoverEpoch: input.failoverEpoch,
    settings: {
      unmatched: policy.settings.unmatched,
      hashSeed: policy.settings.hashSeed,
      ...(policy.settings.ipRulePriorityBase === undefined
        ? {}
        : { ipRulePriorityBase: policy.settings.ipRulePriorityBase }),
      lanInterfaces: [...policy.settings.lanInterfaces],
      internalInterfaces: [...policy.settings.internalInterfaces],
    },
    isps,
    pools,
    entries,
    ha: null,
    virtualServices: compileVirtualServices(policy),
  } satisfies GatewaySpec);
}

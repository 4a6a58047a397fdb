import {
  type GatewaySpec,
  SPEC_VERSION,
  type SpecEntry,
  type SpecIsp,
  type SpecPool,
  zGatewaySpec,
} from "../spec/schema";
import type { Policy } from "./model";
import { setCriteria } from "./match-criteria";
import { compileVirtualServices } from "./compile-virtual-services";
import { orderEntries, orderRules } from "./order";
import { describeIssue, type PolicyIssue, validatePolicy } from "./validate";
import { poolAddresses, sliceMembers, slicePool, slicesInForce } from "./pool-slices";
import { type ClusterGateway, gatewaySettingsOf, resolveLink } from "./ha";
import { compileHa } from "./compile-ha";

export { poolAddresses };

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
  /**
   * Every gateway of the cluster with its drained flag. With two or more sharing the pools and no
   * active/standby pair, each gateway's spec carries only its own slice of each pool
   * (core/policy/pool-slices.ts); high availability needs the peers. Absent: a preview for no real
   * gateway (the simulator, a failover preview), whose spec has the whole pools, no ha section, and
   * whose checks cover only the gateways that have settings.
   */
  gateways?: readonly ClusterGateway[];
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

export function compileGatewaySpec(input: CompileInput): GatewaySpec {
  const { policy } = input;
  // in high availability a gateway takes part once a published revision has its settings; until
  // then it is not a peer and has no slice (and its own spec fails the checks below)
  const members = input.gateways === undefined ? [] : sliceMembers(policy, input.gateways, input.gateway.id);
  const gateways = input.gateways === undefined ? undefined : members;
  const issues = validatePolicy(policy, gateways === undefined ? {} : { gateways });
  if (issues.length > 0) throw new PolicyCompileError(policy, issues);
  const own = gatewaySettingsOf(policy, input.gateway.id);

  const ispsById = new Map(policy.isps.map((i) => [i.id, i]));
  // the latest word per ISP wins; failover rows of ISPs that no longer exist are ignored
  const failover = new Map(input.failover.filter((f) => ispsById.has(f.ispId)).map((f) => [f.ispId, f]));

  const isps: SpecIsp[] = [...policy.isps]
    .sort((a, b) => a.index - b.index)
    .map((isp) => {
      const f = failover.get(isp.id);
      // a chosen backup that has since left the plan falls back to the first healthy one
      const chosen = f?.backupIspId ?? null;
      // this gateway's own interface and next hop when its settings override the ISP's
      const link = resolveLink(own, isp);
      return {
        id: isp.id,
        name: isp.name,
        index: isp.index,
        interface: link.interface,
        addressing: isp.addressing,
        nextHop: link.nextHop,
        probeTargets: isp.probeTargets.length > 0 ? [...isp.probeTargets] : [link.nextHop],
        monitor: { ...isp.monitor },
        failoverMode: isp.failoverMode,
        failbackMode: isp.failbackMode,
        flushOnFailback: isp.flushOnFailback,
        backups: isp.backupIspIds.map((id) => ({ ispId: id, defaultPoolId: ispsById.get(id)?.defaultPoolId ?? null })),
        defaultPoolId: isp.defaultPoolId,
        adminState: f?.adminState ?? "active",
        adminBackupIspId: chosen !== null && isp.backupIspIds.includes(chosen) ? chosen : null,
        ...(f?.restoredEpoch ? { restoredEpoch: f.restoredEpoch } : {}),
      };
    });

  const gatewayIds = members.map((g) => g.id);
  const sliced = slicesInForce(policy, gatewayIds);
  if (sliced && !gatewayIds.includes(input.gateway.id)) {
    throw new Error(`gateway "${input.gateway.name}" is not one of the cluster's gateways`);
  }
  const pools: SpecPool[] = policy.pools.map((pool) => {
    const all = poolAddresses(pool);
    const addresses = sliced ? (slicePool(pool, all, gatewayIds).byGateway.get(input.gateway.id) ?? []) : all;
    return {
      id: pool.id,
      name: pool.name,
      ispId: pool.ispId,
      mode: pool.mode,
      addresses,
      portRange: pool.portRange && { ...pool.portRange },
    };
  });

  const positions = new Map(orderRules(policy).map((r) => [r.rule.id, r.position]));
  const entries: SpecEntry[] = orderEntries(policy).map(({ rule, source, destination }) => ({
    ruleId: rule.id,
    rulePosition: positions.get(rule.id) ?? 0,
    ruleSeq: rule.seq,
    source: source.text,
    destination: destination?.text ?? null,
    protocol: rule.protocol,
    // written only when set: a spec without them is the same text as before the criteria existed
    ...setCriteria(rule),
    egressIspId: rule.egressIspId,
    action: { ...rule.action },
    redirectIspId: rule.redirectIspId,
    fallbackPoolId: rule.fallbackPoolId,
    onFailover: rule.onFailover,
    failoverIspId: rule.failoverIspId,
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
    ha:
      gateways === undefined
        ? null
        : compileHa({ policy, gateways, gatewayId: input.gateway.id, addressesOf: poolAddresses }),
    virtualServices: compileVirtualServices(policy),
  } satisfies GatewaySpec);
}

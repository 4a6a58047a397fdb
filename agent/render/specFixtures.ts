import type { Algorithm, Protocol } from "../../server/policy/model";
import type { GatewaySpec, SpecEntry, SpecIsp, SpecPool } from "../spec/schema";

/**
 * Small builders for GatewaySpecs in tests and benchmarks: the datapath is tested against specs
 * written directly, independent of the console's policy compiler.
 */

export function isp(
  id: string,
  index: number,
  iface: string,
  nextHop: string,
  backups: Array<{ ispId: string; defaultPoolId: string | null }> = [],
): SpecIsp {
  return {
    id,
    name: id,
    index,
    interface: iface,
    nextHop,
    probeTargets: [nextHop],
    monitor: {
      intervalMs: 500,
      downAfter: 3,
      upAfter: 5,
      holdDownMs: 10_000,
      lossThresholdPct: 50,
      latencyThresholdMs: 1000,
    },
    failoverMode: "manual",
    failbackMode: "manual",
    flushOnFailback: false,
    backups,
    adminState: "active",
    adminBackupIspId: null,
  };
}

export function pool(
  id: string,
  ispId: string,
  addresses: string[],
  portRange: SpecPool["portRange"] = null,
): SpecPool {
  return { id, name: id, ispId, addresses, portRange };
}

export interface EntryOptions {
  destination?: string | null;
  protocol?: Protocol;
  egress?: string | null;
  redirect?: string | null;
  fallback?: string | null;
  ruleId?: string;
}

type ActionSpec = { snat: string; algorithm?: Algorithm } | "exclude" | "drop";

export function entry(source: string, action: ActionSpec, opts: EntryOptions = {}): Omit<SpecEntry, "rulePosition"> {
  return {
    ruleId: opts.ruleId ?? "r",
    source,
    destination: opts.destination ?? null,
    protocol: opts.protocol ?? "any",
    egressIspId: opts.egress ?? null,
    action:
      action === "exclude" || action === "drop"
        ? { type: action }
        : { type: "snat", poolId: action.snat, algorithm: action.algorithm ?? "sh" },
    redirectIspId: opts.redirect ?? null,
    fallbackPoolId: opts.fallback ?? null,
  };
}

export function gatewaySpec(parts: {
  isps: SpecIsp[];
  pools: SpecPool[];
  entries: Array<Omit<SpecEntry, "rulePosition">>;
  unmatched?: "drop" | "forward";
  hashSeed?: number;
  revision?: number;
}): GatewaySpec {
  return {
    specVersion: 1,
    clusterId: "c1",
    clusterName: "lab",
    gatewayId: "g1",
    gatewayName: "gw1",
    revision: parts.revision ?? 1,
    failoverEpoch: 0,
    settings: { unmatched: parts.unmatched ?? "drop", hashSeed: parts.hashSeed ?? 0x5eed },
    isps: parts.isps,
    pools: parts.pools,
    entries: parts.entries.map((e, i) => ({
      ...e,
      ruleId: e.ruleId === "r" ? `r${i + 1}` : e.ruleId,
      rulePosition: i + 1,
    })),
  };
}

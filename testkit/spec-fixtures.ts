import { type Algorithm, type Protocol, zMonitor } from "../core/policy/model";
import type { GatewaySpec, SpecEntry, SpecIsp, SpecPool } from "../core/spec/schema";
import type { SpecRealServer, SpecVirtualService } from "../core/spec/virtual-services";

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
    addressing: "static",
    nextHop,
    probeTargets: [nextHop],
    monitor: zMonitor.parse({}),
    failoverMode: "manual",
    failbackMode: "manual",
    flushOnFailback: false,
    backups,
    adminState: "active",
    adminBackupIspId: null,
    defaultPoolId: null,
  };
}

export function pool(
  id: string,
  ispId: string,
  addresses: string[],
  portRange: SpecPool["portRange"] = null,
  mode: SpecPool["mode"] = "routed",
): SpecPool {
  return { id, name: id, ispId, mode, addresses, portRange };
}

export interface EntryOptions {
  destination?: string | null;
  protocol?: Protocol;
  egress?: string | null;
  redirect?: string | null;
  fallback?: string | null;
  onFailover?: SpecEntry["onFailover"];
  failoverIsp?: string | null;
  ruleId?: string;
  dstPorts?: string[];
  inInterfaces?: string[];
  fwmark?: { value: number; mask: number } | null;
}

type ActionSpec = { snat: string; algorithm?: Algorithm } | "exclude" | "drop";

export function entry(source: string, action: ActionSpec, opts: EntryOptions = {}): Omit<SpecEntry, "rulePosition"> {
  return {
    ruleId: opts.ruleId ?? "r",
    source,
    destination: opts.destination ?? null,
    protocol: opts.protocol ?? "any",
    ...(opts.dstPorts === undefined ? {} : { dstPorts: opts.dstPorts }),
    ...(opts.inInterfaces === undefined ? {} : { inInterfaces: opts.inInterfaces }),
    ...(opts.fwmark === undefined ? {} : { fwmark: opts.fwmark }),
    egressIspId: opts.egress ?? null,
    action:
      action === "exclude" || action === "drop"
        ? { type: action }
        : { type: "snat", poolId: action.snat, algorithm: action.algorithm ?? "sh" },
    redirectIspId: opts.redirect ?? null,
    fallbackPoolId: opts.fallback ?? null,
    onFailover: opts.onFailover ?? "follow",
    failoverIspId: opts.failoverIsp ?? null,
  };
}

export function gatewaySpec(parts: {
  isps: SpecIsp[];
  pools: SpecPool[];
  entries: Array<Omit<SpecEntry, "rulePosition">>;
  unmatched?: "drop" | "forward";
  hashSeed?: number;
  revision?: number;
  lanInterfaces?: string[];
  internalInterfaces?: string[];
  ha?: GatewaySpec["ha"];
  virtualServices?: GatewaySpec["virtualServices"];
}): GatewaySpec {
  const seqs = new Map<string, number>();
  return {
    specVersion: 1,
    clusterId: "c1",
    clusterName: "lab",
    gatewayId: "g1",
    gatewayName: "gw1",
    revision: parts.revision ?? 1,
    failoverEpoch: 0,
    settings: {
      unmatched: parts.unmatched ?? "drop",
      hashSeed: parts.hashSeed ?? 0x5eed,
      lanInterfaces: parts.lanInterfaces ?? [],
      internalInterfaces: parts.internalInterfaces ?? [],
    },
    isps: parts.isps,
    pools: parts.pools,
    entries: parts.entries.map((e, i) => {
      const ruleId = e.ruleId === "r" ? `r${i + 1}` : e.ruleId;
      // a rule's creation number: the order its id first appears (entries of one rule share it)
      if (!seqs.has(ruleId)) seqs.set(ruleId, seqs.size + 1);
      return { ...e, ruleId, rulePosition: i + 1, ruleSeq: e.ruleSeq ?? seqs.get(ruleId) };
    }),
    ha: parts.ha ?? null,
    virtualServices: parts.virtualServices ?? [],
  };
}

/**
 * Three ISPs (a and b back each other up, c stands alone), five pools and entries that exercise
 * every kind of match and action: the reference spec of the renderer's tests and golden files.
 */
export function officeSpec(): GatewaySpec {
  return gatewaySpec({
    isps: [
      isp("a", 1, "ispa", "100.65.1.2", [{ ispId: "b", defaultPoolId: "pb" }]),
      isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa" }]),
      isp("c", 5, "ispc", "100.65.3.2"),
    ],
    pools: [
      pool("pa", "a", ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"], { from: 1024, to: 65535 }),
      pool("pa2", "a", ["198.51.100.20"]),
      pool("pb", "b", ["198.51.100.130", "198.51.100.131"]),
      pool("pbf", "b", ["198.51.100.140"]),
      pool("pc", "c", ["203.0.113.200", "203.0.113.201", "203.0.113.202"]),
    ],
    entries: [
      entry("100.64.1.0/24", { snat: "pa", algorithm: "sdph" }, { destination: "203.0.113.20/32", protocol: "tcp" }),
      entry("100.64.1.0/24", "drop", { destination: "203.0.113.30/32" }),
      entry("100.64.1.128/25", "exclude"),
      entry("100.64.2.0/24", { snat: "pb", algorithm: "sh" }, { redirect: "b" }),
      entry("100.64.3.0/24", { snat: "pb", algorithm: "rr" }, { egress: "b" }),
      entry("100.64.3.0/24", { snat: "pa", algorithm: "random" }),
      entry("100.64.0.0/16", { snat: "pa2", algorithm: "sh" }, { protocol: "icmp" }),
      entry("100.64.0.0/16", { snat: "pa", algorithm: "sdh" }, { fallback: "pbf", egress: "a" }),
      entry("100.64.0.0/16", { snat: "pc", algorithm: "sh" }, { egress: "c" }),
      entry("100.64.0.0/16", { snat: "pb", algorithm: "sdph" }, { destination: "198.51.100.0/24" }),
    ],
  });
}

/** A virtual service for specs in tests: NAT mode, no health check, no persistence unless told. */
export function virtualService(
  id: string,
  address: string | null,
  port: number | null,
  realServers: Array<Partial<SpecRealServer> & { address: string }>,
  over: Partial<Omit<SpecVirtualService, "realServers">> = {},
): SpecVirtualService {
  return {
    id,
    name: id,
    address,
    fwmark: null,
    protocol: "tcp",
    port,
    scheduler: "rr",
    persistenceSeconds: 0,
    sorryServer: null,
    fullNat: false,
    mode: "nat",
    realServers: realServers.map((r) => ({ port: null, weight: 1, state: "enabled", ...r })),
    healthCheck: {
      kind: "none",
      intervalMs: 2000,
      timeoutMs: 1000,
      rise: 2,
      fall: 3,
      path: "/",
      expectStatus: 200,
      bodyText: "",
    },
    ...over,
  };
}

/** officeSpec with one virtual service of each scheduler and shape: the virtual services' golden ruleset. */
export function servicesSpec(): GatewaySpec {
  const rs = [
    { address: "100.64.10.2", port: 8080 },
    { address: "100.64.10.3", port: 8080, weight: 2 },
    { address: "100.64.10.4", port: 8080, state: "draining" as const },
  ];
  return {
    ...officeSpec(),
    virtualServices: [
      virtualService("web", "198.51.100.80", 80, rs),
      virtualService("web-w", "198.51.100.80", 81, rs, { scheduler: "wrr" }),
      virtualService("web-sh", "198.51.100.80", 82, rs, { scheduler: "sh", persistenceSeconds: 300 }),
      virtualService("dns", "198.51.100.81", 53, [{ address: "100.64.10.5" }, { address: "100.64.10.6" }], {
        protocol: "udp",
        scheduler: "dh",
      }),
      virtualService("all", "198.51.100.82", null, [{ address: "100.64.10.7" }, { address: "100.64.10.8" }], {
        scheduler: "random",
        fullNat: true,
        sorryServer: { address: "100.64.10.9", port: null },
      }),
      virtualService("mh", "198.51.100.83", 443, [{ address: "100.64.10.2" }, { address: "100.64.10.3" }], {
        scheduler: "mh",
      }),
    ],
  };
}

/** A virtual service chosen by the operator's fwmark: no address or port, TCP and UDP. */
export function fwmarkService(
  id: string,
  value: number,
  realServers: Array<Partial<SpecRealServer> & { address: string }>,
  over: Partial<Omit<SpecVirtualService, "realServers">> = {},
): SpecVirtualService {
  return virtualService(id, null, null, realServers, {
    fwmark: { value, mask: 0xf0000000 },
    protocol: "any",
    ...over,
  });
}

/** servicesSpec and services chosen by fwmark: ports mapped and persistent, the client's port kept, a sorry server. */
export function fwmarkServicesSpec(): GatewaySpec {
  const base = servicesSpec();
  return {
    ...base,
    virtualServices: [
      ...base.virtualServices,
      fwmarkService(
        "marked-web",
        0x10000000,
        [
          { address: "100.64.10.2", port: 8080 },
          { address: "100.64.10.3", port: 8443, weight: 2 },
        ],
        { scheduler: "wrr", persistenceSeconds: 600, sorryServer: { address: "100.64.10.9", port: 8080 } },
      ),
      fwmarkService("marked-any", 0x20000000, [{ address: "100.64.10.5" }, { address: "100.64.10.6" }], {
        scheduler: "sh",
        sorryServer: { address: "100.64.10.9", port: null },
      }),
    ],
  };
}

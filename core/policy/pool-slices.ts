import { bigIntToIPv4, ipv4ToBigInt, parseAddressRange } from "../address";
import { type Policy, type Pool, poolHasAddresses } from "./model";
import { assignSlices } from "./slices";

/**
 * Which gateway of a cluster SNATs to which pool address. With two or more gateways that are not
 * an active/standby pair, every gateway is active at once, so each must own a disjoint slice of
 * every pool: replies come back to whichever gateway the upstream routes (or ARPs) an address to,
 * and only the gateway that made a connection's NAT mapping can translate its replies.
 *
 * A pool with fewer addresses than gateways cannot give every gateway an address. Such a cluster
 * does not compile (`slicePools` refuses, naming the pool): giving the gateways left out the whole
 * pool would make two gateways use one address, and the replies of one of them would go to the
 * other. The draft's warnings say so before publishing (core/policy/warnings.ts).
 */

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

/**
 * The gateways that share a cluster's pools: all of them, except that in high availability a
 * gateway takes part only once the policy has its settings (its links, LAN and VRRP values), so a
 * gateway added after the last publish is not a peer yet. `self`, the gateway being compiled, is
 * kept either way (its own checks then say what it lacks).
 */
export function sliceMembers<T extends { id: string }>(policy: Policy, gateways: readonly T[], self?: string): T[] {
  if (policy.settings.ha.mode === "none") return [...gateways];
  const known = new Set(policy.settings.gateways.map((g) => g.gatewayId));
  return gateways.filter((g) => g.id === self || known.has(g.id));
}

/** True when each gateway gets its own slice of every pool rather than the whole pool. */
export function slicesInForce(policy: Policy, gatewayIds: readonly string[]): boolean {
  return new Set(gatewayIds).size >= 2 && policy.settings.ha.mode !== "active_standby";
}

export interface PoolSlices {
  poolId: string;
  /** gateway id -> the addresses it owns, in numeric order (absent: none) */
  byGateway: Map<string, string[]>;
}

export class PoolSliceError extends Error {
  readonly poolId: string;
  constructor(pool: Pool, addresses: number, gateways: number) {
    super(
      `pool "${pool.name}" has ${addresses} address${addresses === 1 ? "" : "es"} for ${gateways} active gateways: ` +
        "each gateway needs at least one address of its own; add addresses to the pool, remove a gateway, " +
        "or make the cluster an active/standby pair",
    );
    this.name = "PoolSliceError";
    this.poolId = pool.id;
  }
}

/**
 * Splits one pool between the gateways (`addresses` in numeric order). Throws PoolSliceError when
 * a gateway would get no address.
 */
export function slicePool(pool: Pool, addresses: readonly string[], gatewayIds: readonly string[]): PoolSlices {
  const gateways = [...new Set(gatewayIds)];
  // an interface-address pool is each gateway's own address on the uplink: nothing to share out
  if (!poolHasAddresses(pool.mode)) return { poolId: pool.id, byGateway: new Map(gateways.map((g) => [g, []])) };
  if (addresses.length < gateways.length) throw new PoolSliceError(pool, addresses.length, gateways.length);
  const owners = assignSlices(addresses, gateways);
  const byGateway = new Map<string, string[]>(gateways.map((g) => [g, []]));
  for (const a of addresses) byGateway.get(owners.get(a) as string)?.push(a);
  return { poolId: pool.id, byGateway };
}

/**
 * The fewest CIDR blocks that cover exactly these IPv4 addresses (any order, duplicates allowed):
 * what an upstream router needs as static routes.
 */
export function aggregateCidrs(addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const [start, end] of runs(addresses)) {
    let v = start;
    while (v <= end) {
      // the largest aligned block that starts at v and stays inside the run
      let size = 1n;
      while (v % (size * 2n) === 0n && v + size * 2n - 1n <= end) size *= 2n;
      const prefix = 32 - (size.toString(2).length - 1);
      out.push(`${bigIntToIPv4(v)}/${prefix}`);
      v += size;
    }
  }
  return out;
}

/** The same addresses as the fewest ranges ("a-b", or one address alone): what a person reads. */
export function aggregateRanges(addresses: readonly string[]): string[] {
  return runs(addresses).map(([s, e]) => (s === e ? bigIntToIPv4(s) : `${bigIntToIPv4(s)}-${bigIntToIPv4(e)}`));
}

function runs(addresses: readonly string[]): Array<[bigint, bigint]> {
  const values = [...new Set(addresses.map(ipv4ToBigInt))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const v of values) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1n === v) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

export interface GatewaySlice {
  gatewayId: string;
  /** how many addresses the gateway owns */
  count: number;
  /** its addresses as the fewest ranges, for people */
  ranges: string[];
}

export interface PoolSliceView {
  poolId: string;
  total: number;
  /** why the pool cannot be sliced (too few addresses), or null */
  problem: string | null;
  /** one per gateway, in the order given; empty when slices are not in force or the pool is short */
  slices: GatewaySlice[];
}

export interface UpstreamRoute {
  ispId: string;
  gatewayId: string;
  /** routed pools: the fewest CIDR blocks the ISP must route to the gateway's address on its link */
  routed: string[];
  /** on-link pools: the addresses the gateway answers ARP for on the ISP's link, as ranges */
  onLink: string[];
}

export interface SlicePlan {
  inForce: boolean;
  pools: PoolSliceView[];
  /** per ISP and gateway; empty when slices are not in force */
  upstream: UpstreamRoute[];
}

/**
 * Who owns which pool addresses, and what each ISP must route (or find by ARP) where: the same
 * split the compiled specs carry, for the Pools page and for labs that play the upstream.
 */
export function planSlices(policy: Policy, gatewayIds: readonly string[]): SlicePlan {
  const gateways = sliceMembers(
    policy,
    [...new Set(gatewayIds)].map((id) => ({ id })),
  ).map((g) => g.id);
  const inForce = slicesInForce(policy, gateways);
  const routed = new Map<string, string[]>();
  const onLink = new Map<string, string[]>();
  const pools: PoolSliceView[] = policy.pools.map((pool) => {
    const all = poolAddresses(pool);
    if (!inForce) return { poolId: pool.id, total: all.length, problem: null, slices: [] };
    let sliced: PoolSlices;
    try {
      sliced = slicePool(pool, all, gateways);
    } catch (e) {
      if (e instanceof PoolSliceError) return { poolId: pool.id, total: all.length, problem: e.message, slices: [] };
      throw e;
    }
    const slices = gateways.map((g) => {
      const mine = sliced.byGateway.get(g) ?? [];
      const key = `${pool.ispId}\u0000${g}`;
      const into = pool.mode === "on-link" ? onLink : routed;
      into.set(key, [...(into.get(key) ?? []), ...mine]);
      return { gatewayId: g, count: mine.length, ranges: aggregateRanges(mine) };
    });
    return { poolId: pool.id, total: all.length, problem: null, slices };
  });
  const upstream: UpstreamRoute[] = [];
  if (inForce) {
    for (const isp of [...policy.isps].sort((a, b) => a.index - b.index)) {
      for (const g of gateways) {
        const key = `${isp.id}\u0000${g}`;
        const r = routed.get(key) ?? [];
        const o = onLink.get(key) ?? [];
        if (r.length + o.length === 0) continue;
        upstream.push({ ispId: isp.id, gatewayId: g, routed: aggregateCidrs(r), onLink: aggregateRanges(o) });
      }
    }
  }
  return { inForce, pools, upstream };
}

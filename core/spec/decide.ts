import { containsAddress, ipv4ToBigInt, parseCidr } from "../address";
import { resolveFailover, specFailoverView } from "./failover-route";
import { interfaceMatches, markMatches, portMatches } from "../policy/match-criteria";
import { jhash, reciprocalScale, registerBytes } from "./jhash";
import type { GatewaySpec, SpecEntry, SpecIsp, SpecPool } from "./schema";

/**
 * The one definition of how a gateway decides a new connection (docs/semantics.md). The packet
 * simulator calls it directly; the nftables renderer produces a ruleset that decides the same
 * way, and the datapath tests check the two agree on real traffic.
 */

export type PacketProtocol = "tcp" | "udp" | "icmp";

export interface Packet {
  src: string;
  dst: string;
  protocol: PacketProtocol;
  srcPort?: number;
  dstPort?: number;
  /**
   * the ISP the kernel's routing really sends the packet through without Gatehouse's marks (main
   * table, ECMP hash, the operator's source/iif/fwmark rules); null: not leaving via an ISP
   */
  routedIspId: string | null;
  /**
   * the ISP the lookup before routing reports (`fib daddr . mark oifname`: the first next hop of
   * a multipath route, blind to `iif` rules); undefined: the same as routedIspId
   */
  lookupIspId?: string | null;
  /** the interface the packet came in by; undefined: unknown, matches no rule that names one */
  inInterface?: string;
  /** the packet's mark as the operator's own rules left it; undefined: 0 */
  mark?: number;
}

/** Which ISPs are failed over right now and to which backup (only real switches: never to a down backup). */
export type FailoverState = ReadonlyMap<string, string>;

export type MissReason = "source" | "destination" | "protocol" | "port" | "interface" | "mark" | "egress";

export interface EntryMiss {
  entry: SpecEntry;
  reason: MissReason;
}

export type Verdict =
  | { kind: "not-egress" }
  | { kind: "drop"; why: "rule" | "unmatched" }
  | { kind: "forward"; why: "exclude" | "unmatched"; ispId: string }
  | {
      kind: "snat";
      ispId: string;
      poolId: string;
      /** null for random and rr, which the kernel decides per connection */
      address: string | null;
      candidates: string[];
      portRange: { from: number; to: number } | null;
      /**
       * an interface-address pool: the source becomes the current address of this interface
       * (nft masquerade), whatever DHCP or PPPoE last gave it; address is null, candidates empty
       */
      masquerade?: string;
    };

export interface Decision {
  matched: SpecEntry | null;
  /** entries tried before the match (or all, when nothing matched), with the first condition that failed */
  misses: EntryMiss[];
  verdict: Verdict;
  /** set when a redirect or a failover sends the connection through another ISP than routing chose */
  reroutedTo: string | null;
  failedOverFrom: string | null;
  nextHop: string | null;
  interface: string | null;
  /**
   * the lookup before routing missed a reroute that the real route needs (ECMP, iif rules): the
   * gateway drops the connection's first packet, remembers where routing really sent it, and
   * reroutes its retransmission
   */
  retried: boolean;
}

const PROTO_NUMBERS: Record<PacketProtocol, number> = { tcp: 6, udp: 17, icmp: 1 };

export function entryMiss(entry: SpecEntry, p: Packet): MissReason | null {
  const src = parseCidr(entry.source);
  if (!src.ok || !containsAddress(src.value, p.src)) return "source";
  if (entry.destination !== null) {
    const dst = parseCidr(entry.destination);
    if (!dst.ok || !containsAddress(dst.value, p.dst)) return "destination";
  }
  if (entry.protocol !== "any" && entry.protocol !== p.protocol) return "protocol";
  if (!portMatches(entry.dstPorts, p.dstPort)) return "port";
  if (!interfaceMatches(entry.inInterfaces, p.inInterface)) return "interface";
  if (!markMatches(entry.fwmark, p.mark)) return "mark";
  if (entry.egressIspId !== null && entry.egressIspId !== p.routedIspId) return "egress";
  return null;
}

/** The pool bucket nft's jhash picks; random and rr are decided per connection in the kernel. */
export function pickAddress(pool: SpecPool, algorithm: string, p: Packet, seed: number): string | null {
  const n = pool.addresses.length;
  const saddr = { value: Number(ipv4ToBigInt(p.src)), width: 4 as const };
  const daddr = { value: Number(ipv4ToBigInt(p.dst)), width: 4 as const };
  let key: Uint8Array;
  if (algorithm === "sh") key = registerBytes([saddr]);
  else if (algorithm === "sdh") key = registerBytes([saddr, daddr]);
  else if (algorithm === "sdph" && (p.protocol === "tcp" || p.protocol === "udp")) {
    key = registerBytes([
      saddr,
      daddr,
      { value: PROTO_NUMBERS[p.protocol], width: 1 },
      { value: p.srcPort ?? 0, width: 2 },
      { value: p.dstPort ?? 0, width: 2 },
    ]);
  } else if (algorithm === "sdph")
    key = registerBytes([saddr, daddr]); // no ports: falls back to sdh
  else return null;
  return pool.addresses[reciprocalScale(jhash(key, seed), n)] ?? null;
}

/** Whether a decision moves the connection off the route the kernel chose (policy routing by mark). */
export function reroutes(d: Decision): boolean {
  if (d.verdict.kind !== "snat" && d.verdict.kind !== "forward") return false;
  return d.matched?.redirectIspId != null || d.failedOverFrom !== null;
}

/**
 * The gateway's decision for a connection's first packet (docs/semantics.md, "Before and after
 * routing"). A reroute must be chosen before routing, from the lookup; everything else is decided
 * after routing from the interface the packet really leaves by.
 */
export function decide(spec: GatewaySpec, failover: FailoverState, p: Packet): Decision {
  const lookup = lookupSees(spec, p.lookupIspId === undefined ? p.routedIspId : p.lookupIspId);
  if (lookup !== p.routedIspId) {
    const before = decideRouted(spec, failover, { ...p, routedIspId: lookup });
    if (reroutes(before)) return before;
    const after = decideRouted(spec, failover, p);
    return reroutes(after) ? { ...after, retried: true } : after;
  }
  return decideRouted(spec, failover, p);
}

/**
 * The ISP the lookup before routing can name: it reports an interface, not a next hop, so an ISP
 * that shares its interface with another is not told apart there (no ISP: routing decides, and
 * after routing `rt ip nexthop` says which ISP it was).
 */
export function lookupSees(spec: GatewaySpec, ispId: string | null): string | null {
  const isp = spec.isps.find((i) => i.id === ispId);
  if (isp === undefined) return null;
  return spec.isps.some((o) => o !== isp && o.interface === isp.interface) ? null : isp.id;
}

function decideRouted(spec: GatewaySpec, failover: FailoverState, p: Packet): Decision {
  const isps = new Map<string, SpecIsp>(spec.isps.map((i) => [i.id, i]));
  const pools = new Map<string, SpecPool>(spec.pools.map((x) => [x.id, x]));
  const base: Omit<Decision, "verdict"> = {
    matched: null,
    misses: [],
    reroutedTo: null,
    failedOverFrom: null,
    nextHop: null,
    interface: null,
    retried: false,
  };
  if (p.routedIspId === null || !isps.has(p.routedIspId)) return { ...base, verdict: { kind: "not-egress" } };

  const misses: EntryMiss[] = [];
  let matched: SpecEntry | null = null;
  for (const entry of spec.entries) {
    const reason = entryMiss(entry, p);
    if (reason === null) {
      matched = entry;
      break;
    }
    misses.push({ entry, reason });
  }

  const matchedAction = matched?.action;
  const resolved = resolveFailover(
    specFailoverView(isps),
    failover,
    matched?.redirectIspId ?? p.routedIspId,
    matched,
    matchedAction?.type === "snat" ? matchedAction.poolId : null,
  );
  const ispId = resolved.ispId;
  const failedOverFrom = resolved.failedOverFrom;
  const isp = isps.get(ispId);
  const route = {
    matched,
    misses,
    reroutedTo: ispId !== p.routedIspId ? ispId : null,
    failedOverFrom,
    nextHop: isp?.nextHop ?? null,
    interface: isp?.interface ?? null,
    retried: false,
  };

  if (matched === null) {
    return spec.settings.unmatched === "forward"
      ? { ...route, verdict: { kind: "forward", why: "unmatched", ispId } }
      : { ...route, reroutedTo: null, nextHop: null, interface: null, verdict: { kind: "drop", why: "unmatched" } };
  }
  const action = matched.action;
  if (action.type === "drop") {
    return { ...route, reroutedTo: null, nextHop: null, interface: null, verdict: { kind: "drop", why: "rule" } };
  }
  if (action.type === "exclude") return { ...route, verdict: { kind: "forward", why: "exclude", ispId } };

  const poolId = resolved.poolId ?? action.poolId;
  const pool = pools.get(poolId);
  if (pool === undefined) throw new Error(`spec names pool ${poolId}, which it does not define`);
  if (pool.mode === "interface") {
    const iface = route.interface ?? isps.get(ispId)?.interface ?? "";
    return {
      ...route,
      verdict: {
        kind: "snat",
        ispId,
        poolId,
        address: null,
        candidates: [],
        portRange: pool.portRange,
        masquerade: iface,
      },
    };
  }
  return {
    ...route,
    verdict: {
      kind: "snat",
      ispId,
      poolId,
      address: pickAddress(pool, action.algorithm, p, spec.settings.hashSeed),
      candidates: pool.addresses,
      portRange: pool.portRange,
    },
  };
}

/** Failover state as the console sees it: the ISPs an operator failed over, to the chosen or first backup. */
export function adminFailoverState(spec: GatewaySpec): FailoverState {
  const state = new Map<string, string>();
  for (const isp of spec.isps) {
    if (isp.adminState !== "failed_over") continue;
    const to = isp.adminBackupIspId ?? isp.backups[0]?.ispId;
    if (to !== undefined) state.set(isp.id, to);
  }
  return state;
}

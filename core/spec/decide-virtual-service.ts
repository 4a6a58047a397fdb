import { ipv4ToBigInt } from "../address";
import { markMatches } from "../policy/match-criteria";
import { scheduleBuckets, usableServers } from "../render/vs-schedule";
import { jhash, reciprocalScale, registerBytes } from "./jhash";
import type { GatewaySpec } from "./schema";
import type { SpecRealServer, SpecVirtualService } from "./virtual-services";

/**
 * How a gateway decides a new inbound connection to a virtual address (docs/semantics.md,
 * "Virtual services"): which service takes it, and which real server the service's lookup table
 * gives it. The renderer builds the same table (scheduleBuckets) and hashes the same way (jhash
 * with the cluster's seed over the client's or the destination's address), so for the hash
 * schedulers this is the server the kernel picks; rr, wrr and random pick per connection.
 */

export interface InboundPacket {
  /** the client */
  src: string;
  /** the virtual address it connects to (any address, for a service chosen by fwmark) */
  dst: string;
  protocol: "tcp" | "udp";
  srcPort?: number;
  dstPort: number;
  /** the packet's mark as the operator's own rules set it before Gatehouse's DNAT; undefined: 0 */
  mark?: number;
}

export type InboundVerdict =
  /** no service on this address, protocol and port: the gateway treats it as any other packet */
  | { kind: "no-service" }
  /** the service has no usable server and no sorry server: new connections are dropped */
  | { kind: "drop" }
  /** no usable server: the sorry server takes it */
  | { kind: "sorry" }
  /** one of `candidates`: `server` is the one the hash picks, null when it is picked per connection */
  | {
      kind: "real-server";
      server: SpecRealServer | null;
      candidates: SpecRealServer[];
      /** the lookup table entry the hash picks, and the table's size */
      bucket: number | null;
      buckets: number;
    };

export interface InboundDecision {
  service: SpecVirtualService | null;
  /** the service takes this port ("port"), every port of the address ("every-port"), or the packet's mark ("fwmark") */
  matchedBy: "port" | "every-port" | "fwmark" | null;
  verdict: InboundVerdict;
  /** where the connection goes: the destination after DNAT; null when it is not rewritten */
  dnat: { address: string; port: number } | null;
  /** DR forwards the packet unchanged to the server's link address, so there is no DNAT */
  directRouting: boolean;
}

/**
 * The service a new connection meets: a service chosen by the packet's mark first (as IPVS looks
 * fwmark services up first; their marks cannot overlap), else the one on its address and exact
 * port, else the one on every port of its address.
 */
export function findVirtualService(
  services: readonly SpecVirtualService[],
  p: Pick<InboundPacket, "dst" | "protocol" | "dstPort" | "mark">,
): { service: SpecVirtualService; matchedBy: "port" | "every-port" | "fwmark" } | null {
  const marked = services.find(
    (s) => s.fwmark !== null && markMatches(s.fwmark, p.mark) && (s.protocol === "any" || s.protocol === p.protocol),
  );
  if (marked) return { service: marked, matchedBy: "fwmark" };
  const exact = services.find((s) => s.address === p.dst && s.protocol === p.protocol && s.port === p.dstPort);
  if (exact) return { service: exact, matchedBy: "port" };
  const any = services.find((s) => s.address === p.dst && s.protocol === p.protocol && s.port === null);
  return any ? { service: any, matchedBy: "every-port" } : null;
}

/** The bucket the datapath's jhash picks for sh and mh (client address) and dh (destination address). */
export function hashBucket(
  service: SpecVirtualService,
  p: InboundPacket,
  seed: number,
  buckets: number,
): number | null {
  if (service.scheduler !== "sh" && service.scheduler !== "mh" && service.scheduler !== "dh") return null;
  const address = service.scheduler === "dh" ? p.dst : p.src;
  const key = registerBytes([{ value: Number(ipv4ToBigInt(address)), width: 4 }]);
  return reciprocalScale(jhash(key, seed), buckets);
}

/**
 * Decides a new connection. `down` holds the real servers the health checks took out (keys of
 * `realServerKey` in core/render/vs-schedule.ts); the simulator passes none, as if every server were up.
 */
export function decideInbound(
  spec: Pick<GatewaySpec, "virtualServices" | "settings">,
  p: InboundPacket,
  down: ReadonlySet<string> = new Set(),
): InboundDecision {
  const found = findVirtualService(spec.virtualServices, p);
  if (found === null) {
    return { service: null, matchedBy: null, verdict: { kind: "no-service" }, dnat: null, directRouting: false };
  }
  const { service, matchedBy } = found;
  const dr = service.mode === "dr";
  const table = scheduleBuckets(service, usableServers(service, down));
  const portOf = (port: number | null) => port ?? p.dstPort;
  if (table.length === 0) {
    const sorry = service.sorryServer;
    if (sorry === null) return { service, matchedBy, verdict: { kind: "drop" }, dnat: null, directRouting: false };
    return {
      service,
      matchedBy,
      verdict: { kind: "sorry" },
      dnat: { address: sorry.address, port: portOf(sorry.port) },
      directRouting: false,
    };
  }
  const candidates = [...new Set(table)];
  const bucket = hashBucket(service, p, spec.settings.hashSeed, table.length);
  const server = bucket === null ? null : (table[bucket] ?? null);
  return {
    service,
    matchedBy,
    verdict: { kind: "real-server", server, candidates, bucket, buckets: table.length },
    dnat: server === null || dr ? null : { address: server.address, port: portOf(server.port) },
    directRouting: dr,
  };
}

import type { Fwmark } from "../policy/match-criteria";
import { dnatsPorts, vsProtocols } from "../policy/virtual-service";
import { MARK_VS_FULLNAT } from "../spec/marks";
import type { GatewaySpec } from "../spec/schema";
import type { SpecRealServer, SpecVirtualService } from "../spec/virtual-services";
import {
  CHAIN_VS_COUNT,
  CHAIN_VS_DNAT,
  CHAIN_VS_PERSIST,
  CHAIN_VS_SNAT,
  MAP_VS_PERSIST_BY_VIP,
  MAP_VS_SERVICES,
  MAP_VS_SERVICES_ANY,
  POLICY_TABLE,
  SET_VS_RS_IN,
  SET_VS_RS_NEW,
  SET_VS_RS_OUT,
  SET_VS_SERVICE_IN,
  vsBucketMap,
  vsChain,
  vsPersistChain,
  vsPersistMap,
} from "./names";
import { drServiceObjects, drServiceRules } from "./vs-dr";
import { bucketExpression, hex, quoteComment } from "./vs-statements";
import { scheduleBuckets, usableServers } from "./vs-schedule";

/**
 * Inbound virtual services in the policy table (docs/virtual-services.md):
 *
 * - a connection's first packet to a virtual address meets one hash-map lookup on
 *   address . protocol . port (a second one on address . protocol only when some service takes
 *   every port), which jumps to the service's chain, whatever the number of services;
 * - the service chain DNATs through the service's bucket map: numgen picks the bucket for rr, wrr
 *   and random, a seeded jhash of the client (sh, mh) or destination (dh) address for the hashes;
 *   the bucket map holds only the usable servers, so the health checker takes a server out by
 *   rewriting one service's chain and map (renderServiceUpdate), never the table;
 * - persistence is a dynamic map client -> server with a timeout, consulted first and refreshed
 *   after each new connection the service DNATed;
 * - FULLNAT services also SNAT the client to the gateway's address towards the server;
 * - counters: sets with per-element counters per service and per real server;
 * - direct routing (DR) services are vs-dr.ts's. The packet must reach the server unchanged
 *   (destination still the virtual address), so there is no DNAT: at priority raw the service's
 *   chain marks the packet with its server's number (ISP field 255, number in the action bits,
 *   core/spec/marks.ts) and one ip rule per server sends that mark to a table whose only route is
 *   `default via <server>` (core/render/routes.ts, reconciled by agent/apply/routes.ts), so the
 *   kernel sends it to the server's MAC. The gateway sees only the client's half of a connection,
 *   which conntrack would call invalid after the SYN, so DR packets are not tracked and a
 *   per-service flow map (client address . port -> mark, idle timeout, never flushed by a
 *   reload) keeps every packet of a flow on its first choice. Services keep one mode: a service
 *   mixing NAT and DR servers is refused by the policy checks.
 */

export interface VsChain {
  name: string;
  comment: string;
  hook?: string;
  rules: string[];
}
export interface VsMap {
  name: string;
  kind: "map" | "set";
  declaration: string;
  comment: string;
  elements: string[];
  /** the datapath's own elements (DR flow tables): never flushed by a reload */
  keep?: boolean;
}
export interface VsObjects {
  chains: VsChain[];
  maps: VsMap[];
}

/** The bucket map's value: address and port, or the address alone when connections keep their port. */
function target(service: SpecVirtualService, rs: Pick<SpecRealServer, "address" | "port">): string {
  if (!withPort(service)) return rs.address;
  return `${rs.address} . ${rs.port ?? service.port}`;
}

const withPort = (s: SpecVirtualService) => dnatsPorts(s);
/** The protocol match of a service: `tcp`, `udp`, or both for a service chosen by fwmark. */
const l4proto = (s: Pick<SpecVirtualService, "protocol">) => (s.protocol === "any" ? "{ tcp, udp }" : s.protocol);
/** `dnat ip to` or `dnat ip addr . port to`, after the protocol match nft needs for ports. */
const dnatTo = (s: SpecVirtualService) =>
  withPort(s) ? `meta l4proto ${l4proto(s)} dnat ip addr . port to` : "dnat ip to";
/** The sorry server's DNAT: with a port when it names one (or the service's port), else the connection's own. */
function sorryDnat(s: SpecVirtualService, sorry: NonNullable<SpecVirtualService["sorryServer"]>): string {
  if (s.fwmark === null) return `${dnatTo(s)} ${target(s, sorry)}`;
  return sorry.port === null
    ? `dnat ip to ${sorry.address}`
    : `meta l4proto ${l4proto(s)} dnat ip addr . port to ${sorry.address} . ${sorry.port}`;
}
/** The match that chooses a service by the operator's mark (and the protocols it takes). */
export const fwmarkMatch = (s: SpecVirtualService & { fwmark: Fwmark }) =>
  `meta mark & ${hex(s.fwmark.mask)} == ${hex(s.fwmark.value)} meta l4proto ${l4proto(s)}`;

/** The rules of one service's chain and the elements of its bucket map, for these usable servers. */
export function serviceRules(
  service: SpecVirtualService,
  number: number,
  down: ReadonlySet<string>,
  seed: number,
): { rules: string[]; buckets: string[] } {
  const buckets = scheduleBuckets(service, usableServers(service, down));
  const rules: string[] = [];
  if (service.fullNat) rules.push(`ct mark set ct mark | ${hex(MARK_VS_FULLNAT)}`);
  if (buckets.length === 0) {
    if (service.sorryServer !== null) {
      rules.push(
        `${sorryDnat(service, service.sorryServer)} ${quoteComment(`${service.name}: no real server is up, sorry server`)}`,
      );
    } else {
      rules.push(`counter drop ${quoteComment(`${service.name}: no real server is up`)}`);
    }
    return { rules, buckets: [] };
  }
  if (service.persistenceSeconds > 0) {
    const persist = vsPersistMap(number, service.persistenceSeconds);
    rules.push(`ip saddr @${persist} ${dnatTo(service)} ip saddr map @${persist}`);
  }
  rules.push(
    `${dnatTo(service)} ${bucketExpression(service, buckets.length, seed)} map @${vsBucketMap(number)} ${quoteComment(
      `${service.name} by ${service.scheduler}`,
    )}`,
  );
  return { rules, buckets: buckets.map((rs, i) => `${i} : ${target(service, rs)}`) };
}

function bucketMapDeclaration(service: SpecVirtualService): string {
  if (!withPort(service)) return "typeof numgen inc mod 65536 : ip daddr;";
  // a service of both protocols names the port by the transport header, whichever it is
  const port = service.protocol === "any" ? "th" : service.protocol;
  return `typeof numgen inc mod 65536 : ip daddr . ${port} dport;`;
}

function persistDeclaration(service: SpecVirtualService): string {
  const value = withPort(service) ? "ipv4_addr . inet_service" : "ipv4_addr";
  return `type ipv4_addr : ${value}; flags dynamic,timeout; timeout ${service.persistenceSeconds}s; size 65536;`;
}

/** Everything the virtual services need in the policy table; nothing when the spec has none. */
export function virtualServiceObjects(spec: GatewaySpec, down: ReadonlySet<string>): VsObjects {
  const out = natServiceObjects(spec, down);
  const dr = drServiceObjects(spec, down);
  out.chains.push(...dr.chains);
  out.maps.push(...dr.maps);
  return out;
}

/** The NAT-mode services' objects; a service keeps its number (position in the spec) whatever its mode. */
function natServiceObjects(spec: GatewaySpec, down: ReadonlySet<string>): VsObjects {
  const out: VsObjects = { chains: [], maps: [] };
  if (!spec.virtualServices.some((s) => s.mode !== "dr")) return out;
  const services = spec.virtualServices;
  const seed = spec.settings.hashSeed;
  const exact: string[] = [];
  const any: string[] = [];
  const persistByVip = new Map<string, string[]>();
  const marked: string[] = [];
  const persistByMark: string[] = [];
  const rsKeys = new Set<string>();
  const serviceKeys: string[] = [];

  services.forEach((s, i) => {
    if (s.mode === "dr") return;
    const number = i + 1;
    const { rules, buckets } = serviceRules(s, number, down, seed);
    out.chains.push({ name: vsChain(number), comment: `virtual service ${s.name}`, rules });
    out.maps.push({
      name: vsBucketMap(number),
      kind: "map",
      declaration: bucketMapDeclaration(s),
      comment: `real server by bucket for ${s.name}`,
      elements: buckets,
    });
    if (s.fwmark !== null) {
      marked.push(`${fwmarkMatch({ ...s, fwmark: s.fwmark })} goto ${vsChain(number)}`);
    } else if (s.port === null) any.push(`${s.address} . ${s.protocol} : goto ${vsChain(number)}`);
    else {
      exact.push(`${s.address} . ${s.protocol} . ${s.port} : goto ${vsChain(number)}`);
      serviceKeys.push(`${s.address} . ${s.protocol} . ${s.port}`);
    }
    for (const rs of s.realServers) {
      const port = rs.port ?? s.port;
      if (port !== null) for (const p of vsProtocols(s.protocol)) rsKeys.add(`${rs.address} . ${p} . ${port}`);
    }
    if (s.persistenceSeconds > 0) {
      const persist = vsPersistMap(number, s.persistenceSeconds);
      out.maps.push({
        name: persist,
        kind: "map",
        declaration: persistDeclaration(s),
        comment: `client to its real server for ${s.name}`,
        elements: [],
      });
      const value = withPort(s) ? "ip daddr . th dport" : "ip daddr";
      if (s.fwmark !== null) {
        // the packet still carries the operator's mark after DNAT: it names the service
        persistByMark.push(
          `ct state new ct status dnat ${fwmarkMatch({ ...s, fwmark: s.fwmark })} update @${persist} { ip saddr : ${value} } accept`,
        );
        return;
      }
      const key = `${s.address} . ${s.protocol}`;
      const port = s.port === null ? "" : `meta l4proto ${s.protocol} ct original proto-dst ${s.port} `;
      const list = persistByVip.get(key) ?? [];
      list.push(`${port}update @${persist} { ip saddr : ${value} }`);
      persistByVip.set(key, list);
    }
  });

  out.chains.unshift({
    name: CHAIN_VS_DNAT,
    comment: "new connections to virtual services: one lookup, then the service's chain",
    hook: "type nat hook prerouting priority dstnat; policy accept;",
    rules: [
      // services chosen by the operator's mark first, as IPVS looks fwmark services up first
      ...marked,
      `ip daddr . meta l4proto . th dport vmap @${MAP_VS_SERVICES}`,
      ...(any.length > 0 ? [`ip daddr . meta l4proto vmap @${MAP_VS_SERVICES_ANY}`] : []),
    ],
  });
  out.maps.push(
    {
      name: MAP_VS_SERVICES,
      kind: "map",
      declaration: "type ipv4_addr . inet_proto . inet_service : verdict;",
      comment: "virtual address . protocol . port to its service",
      elements: exact,
    },
    {
      name: MAP_VS_SERVICES_ANY,
      kind: "map",
      declaration: "type ipv4_addr . inet_proto : verdict;",
      comment: "virtual address . protocol to its service on every port",
      elements: any,
    },
  );

  // counters: after DNAT (dstnat + 1) the original direction goes to the real server and replies
  // come from it; before DNAT (dstnat - 1) a packet still carries the virtual address
  out.chains.push({
    name: CHAIN_VS_COUNT,
    comment: "count virtual service traffic per real server",
    hook: "type filter hook prerouting priority -99; policy accept;",
    rules: [
      "ct status & dnat == 0 accept",
      `ct direction original ct state new ip daddr . meta l4proto . th dport @${SET_VS_RS_NEW}`,
      `ct direction original ip daddr . meta l4proto . th dport @${SET_VS_RS_IN}`,
      `ct direction reply ip saddr . meta l4proto . th sport @${SET_VS_RS_OUT}`,
    ],
  });
  out.chains.push({
    name: `${CHAIN_VS_COUNT}_vip`,
    comment: "count virtual service traffic per service",
    hook: "type filter hook prerouting priority -101; policy accept;",
    rules: [`ct direction original ip daddr . meta l4proto . th dport @${SET_VS_SERVICE_IN}`],
  });
  const counted = (name: string, text: string, elements: string[]) =>
    out.maps.push({
      name,
      kind: "set",
      declaration: "type ipv4_addr . inet_proto . inet_service; counter;",
      comment: text,
      elements,
    });
  const rs = [...rsKeys];
  counted(SET_VS_RS_NEW, "new connections per real server", rs);
  counted(SET_VS_RS_IN, "packets to each real server", rs);
  counted(SET_VS_RS_OUT, "packets from each real server", rs);
  counted(SET_VS_SERVICE_IN, "packets to each virtual service", serviceKeys);

  if (persistByVip.size > 0 || persistByMark.length > 0) {
    const elements: string[] = [];
    [...persistByVip.entries()].forEach(([key, rules], i) => {
      out.chains.push({ name: vsPersistChain(i + 1), comment: `persistence for ${key}`, rules });
      elements.push(`${key} : jump ${vsPersistChain(i + 1)}`);
    });
    out.chains.push({
      name: CHAIN_VS_PERSIST,
      comment: "remember the real server of each new connection to a persistent service",
      hook: "type filter hook prerouting priority -98; policy accept;",
      rules: [
        ...persistByMark,
        `ct state new ct status dnat ct original ip daddr . meta l4proto vmap @${MAP_VS_PERSIST_BY_VIP}`,
      ],
    });
    out.maps.push({
      name: MAP_VS_PERSIST_BY_VIP,
      kind: "map",
      declaration: "type ipv4_addr . inet_proto : verdict;",
      comment: "persistent virtual address . protocol to its rules",
      elements,
    });
  }
  if (services.some((s) => s.fullNat)) {
    out.chains.push({
      name: CHAIN_VS_SNAT,
      comment: "FULLNAT services: the client's address becomes the gateway's towards the server",
      hook: "type nat hook postrouting priority 99; policy accept;",
      rules: [`ct mark & ${hex(MARK_VS_FULLNAT)} == ${hex(MARK_VS_FULLNAT)} masquerade`],
    });
  }
  return out;
}

/**
 * One service's new state after a health change, as one small nft transaction: its chain and
 * bucket map are rewritten, nothing else in the table is touched. With dropPersistence the
 * service's persistent clients are forgotten, so none stays on a server that left.
 */
export function renderServiceUpdate(
  spec: GatewaySpec,
  serviceId: string,
  down: ReadonlySet<string>,
  opts: { dropPersistence: boolean },
): string {
  const index = spec.virtualServices.findIndex((s) => s.id === serviceId);
  const service = spec.virtualServices[index];
  if (service === undefined) throw new Error(`the spec has no virtual service ${serviceId}`);
  const number = index + 1;
  const { rules, buckets } = (service.mode === "dr" ? drServiceRules : serviceRules)(
    service,
    number,
    down,
    spec.settings.hashSeed,
  );
  const T = POLICY_TABLE;
  const out = [`flush chain ${T} ${vsChain(number)}`, `flush map ${T} ${vsBucketMap(number)}`];
  if (buckets.length > 0) out.push(`add element ${T} ${vsBucketMap(number)} { ${buckets.join(", ")} }`);
  if (service.persistenceSeconds > 0 && opts.dropPersistence) {
    out.push(`flush map ${T} ${vsPersistMap(number, service.persistenceSeconds)}`);
  }
  for (const r of rules) out.push(`add rule ${T} ${vsChain(number)} ${r}`);
  return `${out.join("\n")}\n`;
}

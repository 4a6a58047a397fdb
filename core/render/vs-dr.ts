import {
  DR_ROUTE_TABLE_BASE,
  drMarkOf,
  drRouteTableOf,
  drRulePriorityOf,
  drTargetOf,
  MARK_VS_DR,
  MARK_VS_DR_MASK,
} from "../spec/marks";
import type { GatewaySpec } from "../spec/schema";
import type { SpecVirtualService } from "../spec/virtual-services";
import {
  CHAIN_VS_DR,
  CHAIN_VS_DR_COUNT,
  MAP_VS_DR_SERVICES,
  MAP_VS_DR_SERVICES_ANY,
  SET_VS_DR_RS_IN,
  SET_VS_DR_RS_NEW,
  vsBucketMap,
  vsChain,
  vsDrClosingMap,
  vsDrFlowMap,
  vsDrServerChain,
  vsDrSorryChain,
  vsPersistMap,
} from "./names";
import { RenderError } from "./plan";
import { fnv1a, scheduleBuckets, usableServers } from "./vs-schedule";
import { bucketExpression, hex, quoteComment } from "./vs-statements";

/**
 * Direct routing (DR) virtual services: the gateway forwards the client's packet unchanged
 * (destination still the virtual address) to the chosen real server's MAC, and the server, which
 * holds the virtual address on its loopback, answers the client directly.
 *
 * - The gateway sees one direction only. Conntrack would call a TCP connection's second packet
 *   invalid (an ACK with no SYN/ACK seen) and attach no entry to it, so a ct mark cannot carry the
 *   choice: DR packets are not tracked (`notrack` at priority raw) and the gateway keeps its own
 *   flow table instead, one dynamic map per service, client address . port (. port for a service
 *   on every port) -> the packet mark of the chosen server, with an idle timeout refreshed by
 *   every packet (TCP 900 s, UDP 120 s). Every packet of a flow gets the first choice. A TCP
 *   flow whose client sent FIN or RST moves to a closing map and expires 120 s later, however
 *   many ACKs follow: the table holds the connections that are open, not those of the last 15
 *   minutes. A SYN from a closed flow's address and port starts a new flow, scheduled afresh. A full table (DR_FLOW_TABLE_SIZE) remembers no new flow: hash schedulers still send
 *   every packet to the same server, rr, wrr and random do not.
 * - The mark (core/spec/marks.ts): ISP field MARK_VS_DR, the server's DR number (the last 16 bits
 *   of its address) in the action field, the operator's bits kept as the flow's first packet had
 *   them. One ip rule per DR server (`fwmark M/MARK_VS_DR_MASK lookup 740000+n`, all at one
 *   priority) sends the packet to a table whose only route is `default via <server>`: the kernel
 *   resolves the server on its link and sends the unchanged packet to its MAC. The virtual address
 *   must not be an address of the gateway (the local table, ip rule 0, would take it first).
 * - Flow maps survive reloads (they are never flushed), and the numbers depend only on addresses,
 *   so a reload never moves a flow. The scheduler, buckets, health updates, draining and
 *   persistence are the NAT mode's (vs-schedule.ts); the sorry server is one more DR target.
 * - Counters: new flows and packets per real server, keyed by virtual address . protocol . port .
 *   mark.
 */

export interface DrChain {
  name: string;
  comment: string;
  hook?: string;
  rules: string[];
}
export interface DrMap {
  name: string;
  kind: "map" | "set";
  declaration: string;
  comment: string;
  elements: string[];
  /** a flow table: its elements are the datapath's own and survive reloads */
  keep?: boolean;
}

/** idle timeouts of a flow: TCP as LVS's established, UDP as conntrack's UDP stream */
export const DR_FLOW_TIMEOUT_SECONDS = { tcp: 900, udp: 120 } as const;
/** a TCP flow the client closed (FIN or RST) is kept this long after, as LVS's FIN_WAIT */
export const DR_CLOSING_SECONDS = 120;
export const DR_FLOW_TABLE_SIZE = 262_144;

/** The bits a DR verdict writes; the operator's (and every other) bit of the mark is kept. */
const KEEP_NOT_DR = hex(~MARK_VS_DR_MASK);

const flowKey = (s: SpecVirtualService) => (s.port === null ? "ip saddr . th sport . th dport" : "ip saddr . th sport");
const flowKeyType = (s: SpecVirtualService) =>
  s.port === null ? "ipv4_addr . inet_service . inet_service" : "ipv4_addr . inet_service";

const serviceHash = (s: SpecVirtualService) =>
  fnv1a(`${s.address}/${s.protocol}/${s.port ?? "*"}`, 0x811c9dc5)
    .toString(16)
    .padStart(8, "0");
/** A DR service's flow map, named by what the datapath matches (not its position), so it survives reordering. */
export const drFlowMapOf = (s: SpecVirtualService) => vsDrFlowMap(serviceHash(s));
/** A TCP DR service's closing flows (flow key -> mark). */
export const drClosingMapOf = (s: SpecVirtualService) => vsDrClosingMap(serviceHash(s));

/** Every address a DR service may forward to: its real servers and its sorry server. */
export const drAddressesOf = (s: SpecVirtualService): string[] => [
  ...s.realServers.map((r) => r.address),
  ...(s.sorryServer === null ? [] : [s.sorryServer.address]),
];

/** Two DR addresses that share a number would share a route: the renderer refuses them. */
export function drTargets(spec: GatewaySpec): Map<string, number> {
  const out = new Map<string, number>();
  const byNumber = new Map<number, string>();
  for (const s of spec.virtualServices) {
    if (s.mode !== "dr") continue;
    for (const a of drAddressesOf(s)) {
      const n = drTargetOf(a);
      const other = byNumber.get(n);
      if (other !== undefined && other !== a) {
        throw new RenderError(`DR real servers ${other} and ${a} share their last 16 bits: they cannot be told apart`);
      }
      byNumber.set(n, a);
      out.set(a, n);
    }
  }
  return out;
}

/** What a DR service remembers once a new flow's server is chosen: the flow, and the client when persistent. */
function remember(service: SpecVirtualService, number: number): string[] {
  const out: string[] = [];
  if (service.persistenceSeconds > 0) {
    out.push(`update @${vsPersistMap(number, service.persistenceSeconds)} { ip saddr : meta mark }`);
  }
  out.push(`update @${drFlowMapOf(service)} { ${flowKey(service)} : meta mark }`);
  return out;
}

/** The rules of a DR service's chain and the elements of its bucket map, for these usable servers. */
export function drServiceRules(
  service: SpecVirtualService,
  number: number,
  down: ReadonlySet<string>,
  seed: number,
): { rules: string[]; buckets: string[] } {
  const usable = usableServers(service, down);
  const buckets = scheduleBuckets(service, usable);
  const flows = drFlowMapOf(service);
  const key = flowKey(service);
  const rules = ["notrack"];
  if (service.protocol === "tcp") {
    const closing = drClosingMapOf(service);
    rules.push(
      // a new connection from the port of a closed flow is a new flow: chosen afresh (the closed
      // flow's server may be down or draining by now), as LVS's conn_reuse_mode does
      `tcp flags & (syn | ack) == syn ${key} @${closing} delete @${closing} { ${key} : meta mark } delete @${flows} { ${key} : meta mark }`,
      // a flow the client closed keeps its server until it expires, without being refreshed
      `meta mark set ${key} map @${closing} accept`,
      `tcp flags & (fin | rst) != 0 meta mark set ${key} map @${flows} update @${flows} { ${key} timeout ${DR_CLOSING_SECONDS}s : meta mark } update @${closing} { ${key} : meta mark } accept`,
    );
  }
  // a known flow: its first packet's choice, and its idle timeout starts again
  rules.push(`meta mark set ${key} map @${flows} update @${flows} { ${key} : meta mark } accept`);
  if (buckets.length === 0) {
    rules.push(
      service.sorryServer !== null
        ? `goto ${vsDrSorryChain(number)} ${quoteComment(`${service.name}: no real server is up, sorry server`)}`
        : `counter drop ${quoteComment(`${service.name}: no real server is up`)}`,
    );
    return { rules, buckets: [] };
  }
  if (service.persistenceSeconds > 0) {
    const persist = vsPersistMap(number, service.persistenceSeconds);
    rules.push(
      `meta mark set ip saddr map @${persist} ${remember(service, number).join(" ")} accept ${quoteComment(
        `${service.name}: persistent client`,
      )}`,
    );
  }
  rules.push(
    `${bucketExpression(service, buckets.length, seed)} vmap @${vsBucketMap(number)} ${quoteComment(
      `${service.name} by ${service.scheduler}`,
    )}`,
  );
  const position = new Map(service.realServers.map((r, i) => [r, i + 1]));
  return { rules, buckets: buckets.map((rs, i) => `${i} : goto ${vsDrServerChain(number, position.get(rs) ?? 0)}`) };
}

/** The chain that sends a new flow to one DR address: its mark, counted, remembered. */
function targetChain(
  service: SpecVirtualService,
  number: number,
  name: string,
  address: string,
  target: number,
  sorry: boolean,
): DrChain {
  const flow = `update @${drFlowMapOf(service)} { ${flowKey(service)} : meta mark }`;
  return {
    name,
    comment: `${sorry ? "sorry server" : "real server"} ${address} of ${service.name}`,
    rules: [
      `meta mark set meta mark & ${KEEP_NOT_DR} | ${hex(drMarkOf(target))}`,
      ...(service.port === null ? [] : [`ip daddr . meta l4proto . th dport . meta mark @${SET_VS_DR_RS_NEW}`]),
      // the sorry server stands in while no real server is up: its clients are not persistent
      ...(sorry ? [flow] : remember(service, number)),
      "accept",
    ],
  };
}

const counterKey = (s: SpecVirtualService, target: number) =>
  `${s.address} . ${s.protocol} . ${s.port ?? 0} . ${hex(drMarkOf(target))}`;

export function drServiceObjects(spec: GatewaySpec, down: ReadonlySet<string>): { chains: DrChain[]; maps: DrMap[] } {
  const chains: DrChain[] = [];
  const maps: DrMap[] = [];
  const services = spec.virtualServices.map((s, i) => ({ s, number: i + 1 })).filter(({ s }) => s.mode === "dr");
  if (services.length === 0) return { chains, maps };
  for (const { s } of services) {
    // DR decides at priority raw, before the operator's mangle rules set a mark (the policy checks refuse it)
    if (s.fwmark !== null || s.address === null || s.protocol === "any") {
      throw new RenderError(`virtual service ${s.name}: direct routing needs a virtual address, TCP or UDP`);
    }
  }
  const targets = drTargets(spec);
  const exact: string[] = [];
  const any: string[] = [];
  const counted = new Set<string>();
  for (const { s, number } of services) {
    const { rules, buckets } = drServiceRules(s, number, down, spec.settings.hashSeed);
    chains.push({ name: vsChain(number), comment: `virtual service ${s.name} (direct routing)`, rules });
    s.realServers.forEach((rs, i) => {
      const target = targets.get(rs.address) as number;
      chains.push(targetChain(s, number, vsDrServerChain(number, i + 1), rs.address, target, false));
      if (s.port !== null) counted.add(counterKey(s, target));
    });
    if (s.sorryServer !== null) {
      const target = targets.get(s.sorryServer.address) as number;
      chains.push(targetChain(s, number, vsDrSorryChain(number), s.sorryServer.address, target, true));
      if (s.port !== null) counted.add(counterKey(s, target));
    }
    maps.push({
      name: vsBucketMap(number),
      kind: "map",
      declaration: "typeof numgen inc mod 65536 : verdict;",
      comment: `real server by bucket for ${s.name}`,
      elements: buckets,
    });
    maps.push({
      name: drFlowMapOf(s),
      kind: "map",
      declaration: `type ${flowKeyType(s)} : mark; flags dynamic,timeout; timeout ${DR_FLOW_TIMEOUT_SECONDS[s.protocol === "udp" ? "udp" : "tcp"]}s; size ${DR_FLOW_TABLE_SIZE};`,
      comment: `flows of ${s.name} to their real server`,
      elements: [],
      keep: true,
    });
    if (s.protocol === "tcp") {
      maps.push({
        name: drClosingMapOf(s),
        kind: "map",
        declaration: `type ${flowKeyType(s)} : mark; flags dynamic,timeout; timeout ${DR_CLOSING_SECONDS}s; size ${DR_FLOW_TABLE_SIZE};`,
        comment: `flows of ${s.name} the client closed`,
        elements: [],
        keep: true,
      });
    }
    if (s.persistenceSeconds > 0) {
      maps.push({
        name: vsPersistMap(number, s.persistenceSeconds),
        kind: "map",
        declaration: `type ipv4_addr : mark; flags dynamic,timeout; timeout ${s.persistenceSeconds}s; size 65536;`,
        comment: `client to its real server for ${s.name}`,
        elements: [],
      });
    }
    if (s.port === null) any.push(`${s.address} . ${s.protocol} : goto ${vsChain(number)}`);
    else exact.push(`${s.address} . ${s.protocol} . ${s.port} : goto ${vsChain(number)}`);
  }
  chains.unshift({
    name: CHAIN_VS_DR,
    comment: "direct routing virtual services: every packet, before conntrack",
    hook: "type filter hook prerouting priority raw; policy accept;",
    rules: [
      `ip daddr . meta l4proto . th dport vmap @${MAP_VS_DR_SERVICES}`,
      ...(any.length > 0 ? [`ip daddr . meta l4proto vmap @${MAP_VS_DR_SERVICES_ANY}`] : []),
    ],
  });
  maps.push(
    {
      name: MAP_VS_DR_SERVICES,
      kind: "map",
      declaration: "type ipv4_addr . inet_proto . inet_service : verdict;",
      comment: "direct routing virtual address . protocol . port to its service",
      elements: exact,
    },
    {
      name: MAP_VS_DR_SERVICES_ANY,
      kind: "map",
      declaration: "type ipv4_addr . inet_proto : verdict;",
      comment: "direct routing virtual address . protocol to its service on every port",
      elements: any,
    },
  );
  const drOnly = `meta mark & ${hex(0x1ff)} == ${hex(MARK_VS_DR)}`;
  chains.push({
    name: CHAIN_VS_DR_COUNT,
    comment: "count direct routing traffic per real server",
    hook: "type filter hook prerouting priority -299; policy accept;",
    rules: [`${drOnly} ip daddr . meta l4proto . th dport . meta mark @${SET_VS_DR_RS_IN}`],
  });
  const keys = [...counted];
  for (const [name, text] of [
    [SET_VS_DR_RS_NEW, "new direct routing flows per service and real server"],
    [SET_VS_DR_RS_IN, "direct routing packets per service and real server"],
  ] as const) {
    maps.push({
      name,
      kind: "set",
      declaration: "type ipv4_addr . inet_proto . inet_service . mark; counter;",
      comment: text,
      elements: keys,
    });
  }
  return { chains, maps };
}

/** Policy routing for DR: one ip rule and one table per DR address, in a stable order. */
export function drRouting(spec: GatewaySpec, base: number) {
  const targets = [...drTargets(spec).entries()].sort((a, b) => a[1] - b[1]);
  return {
    rules: targets.map(([, n]) => ({
      priority: drRulePriorityOf(base),
      fwmark: drMarkOf(n),
      mask: MARK_VS_DR_MASK,
      table: drRouteTableOf(n),
    })),
    routes: targets.map(([address, n]) => ({ table: drRouteTableOf(n), dst: "default" as const, via: address })),
  };
}

export const DR_OWNED_TABLES = { from: DR_ROUTE_TABLE_BASE, to: DR_ROUTE_TABLE_BASE + 0xffff };

import {
  DEFAULT_IP_RULE_PRIORITY_BASE,
  ipRulePriorityOf,
  MARK_ISP_MASK,
  MARK_REROUTE,
  OWNED_ADDRESS_METRIC,
  probeRulePriorityOf,
  ROUTE_TABLE_BASE,
  routeTableOf,
} from "../spec/marks";
import type { GatewaySpec, SpecIsp } from "../spec/schema";
import { sharedInterfaces } from "./shared-interfaces";
import { DR_OWNED_TABLES, drRouting } from "./vs-dr";

/**
 * Policy routing for redirects and failover: a connection the classifier reroutes carries
 * MARK_REROUTE | ISP index in its packet mark, and one ip rule per ISP sends such packets to the
 * ISP's own table, whose only route is the default via that ISP's next hop.
 *
 * Every ISP gets its rule and table whatever the failover state, so a failover is a pure nft
 * change (one transaction) and never waits on routing.
 *
 * Probes: a probe bound to an ISP's interface (fping -I) still needs a route through that
 * interface. The kernel looks the target up with the interface as the only allowed way out, and
 * when the main table's default route goes through another ISP it finds none and asks for the
 * target itself on the link. For targets beyond the next hop, one more ip rule per ISP sends
 * traffic of sockets bound to its interface to the ISP's own table, so the probe really crosses
 * that uplink. Probing the next hop alone needs no rule, and none is added then.
 */

/** One ip rule: packets with this mark (reroute), or sockets bound to this interface (probes). */
export interface DesiredIpRule {
  priority: number;
  table: number;
  fwmark?: number;
  mask?: number;
  oif?: string;
  /** probes on an interface several ISPs share: one rule per target (an address) */
  to?: string;
}

export interface DesiredRoute {
  table: number;
  /** only "default" today; kept explicit so a reconciler compares like with like */
  dst: "default";
  via: string;
  /** unset: the kernel finds the link the next hop is on (DR real servers) */
  dev?: string;
}

/**
 * An on-link pool address on its ISP's interface: `ip addr add X/32 dev D noprefixroute metric
 * OWNED_ADDRESS_METRIC`. A local address answers the ISP router's ARP requests (proxy ARP does
 * not for an address routed out of the same interface: docs/datapath-facts.md); the metric
 * marks it as the agent's.
 */
export interface DesiredAddress {
  address: string;
  dev: string;
}

export interface DesiredSysctl {
  key: string;
  value: string;
  /**
   * the interface's own setting, for an interface that exists only now and then (a PPPoE ISP's
   * ppp interface, while its session is up): its absence is no error, and the link watcher
   * restores routing when the interface appears
   */
  interfaceMayBeMissing?: true;
}

export interface DesiredRouting {
  rules: DesiredIpRule[];
  routes: DesiredRoute[];
  addresses: DesiredAddress[];
  sysctls: DesiredSysctl[];
}

/**
 * The routing table ids Gatehouse owns: nothing outside is touched. Its ip rules are the ones that
 * look up these tables (their priorities move with the cluster's setting).
 */
export const OWNED_TABLES = { from: ROUTE_TABLE_BASE + 1, to: ROUTE_TABLE_BASE + 250 };
export const REROUTE_MASK = MARK_REROUTE | MARK_ISP_MASK;
/** direct routing virtual services: one table per real server (vs-dr.ts) */
export { DR_OWNED_TABLES };
export const OWNED_ADDRESSES = { prefix: 32, metric: OWNED_ADDRESS_METRIC };

export const CONNTRACK_TCP_BE_LIBERAL = "net.netfilter.nf_conntrack_tcp_be_liberal";

/** sysctl names an interface with dots (VLANs: eth0.100) as eth0/100. */
export const interfaceSysctl = (iface: string, name: string) => `net.ipv4.conf.${iface.replaceAll(".", "/")}.${name}`;

export const ipRuleBaseOf = (spec: GatewaySpec) => spec.settings.ipRulePriorityBase ?? DEFAULT_IP_RULE_PRIORITY_BASE;
/** Every on-link pool address on its ISP's interface, once, in a stable order. */
export function onLinkPoolAddresses(spec: GatewaySpec): DesiredAddress[] {
  const isps = new Map(spec.isps.map((i) => [i.id, i]));
  const seen = new Set<string>();
  const out: DesiredAddress[] = [];
  for (const pool of spec.pools) {
    const isp = isps.get(pool.ispId);
    if (pool.mode !== "on-link" || isp === undefined) continue;
    for (const address of pool.addresses) {
      const key = `${address} ${isp.interface}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ address, dev: isp.interface });
    }
  }
  return out;
}

/**
 * The probe rules of one ISP. On an interface of its own: sockets bound to it use the ISP's
 * table. On an interface several ISPs share the socket says nothing about which ISP it probes,
 * so each target beyond the next hop gets its own rule (`to T oif X`: validation keeps the ISPs'
 * targets apart). Probing the next hop itself needs no rule: it is on the link.
 */
function probeRules(isp: SpecIsp, shared: boolean, base: number): DesiredIpRule[] {
  const beyond = [...new Set(isp.probeTargets.filter((t) => t !== isp.nextHop))].sort();
  if (beyond.length === 0) return [];
  const rule = { priority: probeRulePriorityOf(isp.index, base), oif: isp.interface, table: routeTableOf(isp.index) };
  return shared ? beyond.map((to) => ({ ...rule, to })) : [rule];
}

export function renderRoutes(spec: GatewaySpec): DesiredRouting {
  const isps = [...spec.isps].sort((a, b) => a.index - b.index);
  const base = ipRuleBaseOf(spec);
  const dr = drRouting(spec, base);
  const shared = sharedInterfaces(isps);
  return {
    rules: [
      ...isps.map((isp) => ({
        priority: ipRulePriorityOf(isp.index, base),
        fwmark: MARK_REROUTE | isp.index,
        mask: REROUTE_MASK,
        table: routeTableOf(isp.index),
      })),
      ...isps.flatMap((isp) => probeRules(isp, shared.has(isp.interface), base)),
      ...dr.rules,
    ],
    routes: [
      ...isps
        .filter((isp) => isp.nextHopUnknown !== true)
        .map((isp) => ({
          table: routeTableOf(isp.index),
          dst: "default" as const,
          via: isp.nextHop,
          dev: isp.interface,
        })),
      ...dr.routes,
    ],
    // in a high-availability cluster keepalived owns the on-link pool addresses: they float with its groups
    addresses: spec.ha === null ? onLinkPoolAddresses(spec) : [],
    // replies of a redirected or failed-over connection come in on an interface the main table
    // would not use to reach their source: strict reverse-path filtering would drop them.
    // The kernel uses the higher of .all and the interface's value, so 2 (loose) always wins.
    sysctls: [
      ...[...new Set(isps.map((isp) => isp.interface))].map((i) => ({
        key: interfaceSysctl(i, "rp_filter"),
        value: "2",
        ...(isps.every((isp) => isp.interface !== i || isp.addressing === "pppoe")
          ? { interfaceMayBeMissing: true as const }
          : {}),
      })),
      // a gateway of a pair whose connections its peer carried for a while (it hung, or the VRRP
      // link was cut) gets them back with sequence numbers past the windows its conntrack last saw:
      // strict window tracking would call them invalid, and invalid packets are never NATed
      ...(spec.ha === null ? [] : [{ key: CONNTRACK_TCP_BE_LIBERAL, value: "1" }]),
    ],
  };
}

/**
 * Packet and conntrack mark layout owned by Gatehouse. Only the bits in GH_MASK are ever written,
 * so operators keep the rest of the mark for their own use.
 *
 *   bits 0-7   ISP index (1..250) of the connection's final egress: one `conntrack -D -m X/0xff`
 *              clears an ISP's connections
 *   bit  8     reroute: policy routing sends the packet through the ISP's own routing table
 *   bit  9     exclude: the connection may leave un-NATed
 *   bit  10    classified: the classifier has decided this connection
 *   bit  11    failover: the connection was moved to a backup ISP
 *   bits 12-27 in the packet mark: the NAT action number (1..65535) chosen for the connection's
 *              first packet, which the NAT chain reads in the same pass; in the connection mark:
 *              the rule slot (0x8000..0xfffe) of the rule that decided the connection, by which every
 *              later packet of it, both ways, moves that rule's traffic counter
 *   bit  28    FULLNAT: a virtual service connection whose client is also SNATed (ct mark only,
 *              written only on such connections; outside GH_MASK so the classifier keeps it)
 *
 * Direct routing (DR) virtual services mark packets, never connections (they are not tracked):
 * the ISP field holds MARK_VS_DR (255, a number no ISP takes), the reroute bit stays clear, and
 * the action field holds the real server's DR number (drTargetOf). One ip rule per DR real server
 * matches that under MARK_VS_DR_MASK; no reroute rule (which needs bit 8) can match it.
 */
export const MARK_ISP_MASK = 0xff;
export const MARK_REROUTE = 0x100;
export const MARK_EXCLUDE = 0x200;
export const MARK_CLASSIFIED = 0x400;
export const MARK_FAILOVER = 0x800;
export const MARK_ACTION_SHIFT = 12;
export const MARK_ACTION_MASK = 0xffff << MARK_ACTION_SHIFT;
export const GH_MASK = (MARK_ACTION_MASK | 0xfff) >>> 0;
export const MAX_ACTIONS = 0xffff;
/** The connection mark's rule slot: the same bits as the action in the packet mark. */
export const MARK_RULE_SLOT_MASK = MARK_ACTION_MASK;
/**
 * Slots are 0x8000..0xfffe: connections opened by an agent from before slots carry a NAT action
 * number in these bits, always a small one (one per pool and algorithm in use), so they never
 * count for a rule after the upgrade.
 */
const RULE_SLOT_BASE = 0x8000;
export const MAX_RULE_SLOTS = 0x7fff;
/**
 * A rule's slot, from its creation number in the cluster (Rule.seq, never reused): the same on
 * every gateway, so a connection a pair member synced keeps counting for its rule, and the same
 * across reloads, so an open connection never starts counting for another rule. Two rules whose
 * numbers are 32767 apart share a slot: the later one is not counted (render/nft.ts).
 */
export const ruleSlotOf = (seq: number) => RULE_SLOT_BASE + (seq % MAX_RULE_SLOTS);
export const ruleSlotMark = (slot: number) => ((slot << MARK_ACTION_SHIFT) & MARK_RULE_SLOT_MASK) >>> 0;
/** Set in the connection mark of every connection a counted rule decided (a slot is never below the base). */
export const MARK_RULE_SLOT_PRESENT = ruleSlotMark(RULE_SLOT_BASE);
/**
 * The rules' counters are elements of one set keyed by the slot (render/nft.ts, "rule_hits"):
 * the slot's mark itself for a rule's traffic, the same with this bit for its new connections.
 * The bit is below the slot bits and is only ever part of a set key, never written to a mark.
 */
export const RULE_COUNT_CONNECTIONS = 0x1;
export const MARK_VS_FULLNAT = 0x10000000;
export const MARK_VS_DR = 0xff;
export const MARK_VS_DR_MASK = (MARK_ACTION_MASK | MARK_REROUTE | MARK_ISP_MASK) >>> 0;

/**
 * A DR real server's number: the last 16 bits of its address, so it does not depend on the other
 * services (a flow keeps its server across reloads that add or remove services). Two DR servers
 * whose addresses share their last 16 bits are refused by the policy checks.
 */
export function drTargetOf(address: string): number {
  const parts = address.split(".").map(Number);
  return (((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) & 0xffff;
}
export const drMarkOf = (target: number) => (MARK_VS_DR | (target << MARK_ACTION_SHIFT)) >>> 0;

/** Routing table of ISP i (for redirects and failover). */
export const ROUTE_TABLE_BASE = 7100;
export const routeTableOf = (ispIndex: number) => ROUTE_TABLE_BASE + ispIndex;
/** Routing table of DR real server number n (0..65535): its only route is the default via the server. */
export const DR_ROUTE_TABLE_BASE = 740_000;
export const drRouteTableOf = (target: number) => DR_ROUTE_TABLE_BASE + target;

/**
 * ip rule priorities: ISP i's reroute rule is base + i, its probe rule base + 250 + i, the DR rules
 * base + 501. The base is
 * a cluster setting; the default sits well before the priorities operators and other software
 * usually take (hundreds to thousands, 32766 for main), so Gatehouse's redirects and failovers
 * win. A rule added later without `prio` still lands just before the lowest existing one: the
 * agent reports such rules (agent/apply/rule-conflicts.ts).
 */
export const DEFAULT_IP_RULE_PRIORITY_BASE = 100;
export const MAX_IP_RULE_PRIORITY_BASE = 32000;
export const IP_RULE_PRIORITY_SPAN = 501;
export const ipRulePriorityOf = (ispIndex: number, base = DEFAULT_IP_RULE_PRIORITY_BASE) => base + ispIndex;
/** The ip rule that routes ISP i's probes (sockets bound to its interface) through its own table. */
export const probeRulePriorityOf = (ispIndex: number, base = DEFAULT_IP_RULE_PRIORITY_BASE) => base + 250 + ispIndex;
/**
 * The DR rules all share one priority, after the reroute and probe rules: their marks are
 * disjoint, so their order does not matter, and no other packet matches them.
 */
export const drRulePriorityOf = (base = DEFAULT_IP_RULE_PRIORITY_BASE) => base + IP_RULE_PRIORITY_SPAN;

/** The tables the agent owns: the policy table (flushed and redefined on every reload) and the permanent guard. */
export const NFT_TABLE = "gatehouse";
export const NFT_GUARD_TABLE = "gatehouse_guard";
/** The ARP watch: counts the ISP routers' ARP requests for on-link pool addresses and the gateway's replies. */
export const NFT_ARP_TABLE = "gatehouse_arp";

/**
 * On-link pool addresses the agent puts on an uplink carry this metric: it marks them as the
 * agent's (the reconciler never touches an address without it) and shows in `ip addr`. With
 * noprefixroute a /32's metric has no effect on routing.
 */
export const OWNED_ADDRESS_METRIC = 7100;

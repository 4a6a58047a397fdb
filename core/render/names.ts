import { NFT_ARP_TABLE, NFT_GUARD_TABLE, NFT_TABLE } from "../spec/marks";

/**
 * Names of everything the renderer creates. Chains and maps that come in numbers are named by a
 * counter, never by anything an operator typed; operator names only appear in comments.
 * nft 1.0.6 refuses keywords (snat, fwd, in, ...) as chain names, even quoted: every name here
 * carries an underscore or is a plain hook name nft accepts.
 */
export const POLICY_TABLE = `inet ${NFT_TABLE}`;
export const GUARD_TABLE = `inet ${NFT_GUARD_TABLE}`;
export const ARP_TABLE = `arp ${NFT_ARP_TABLE}`;

export const CHAIN_PREROUTING = "prerouting";
export const CHAIN_POSTROUTING = "postrouting";
/** classifies a connection's first packet after routing, by the interface it really leaves by */
export const CHAIN_CLASSIFY = "classify";
/** before routing: a connection the lookup says needs no reroute leaves with Gatehouse's bits clear */
export const CHAIN_PRE_PASS = "pre_pass";
/** after routing: a rerouted packet must leave by the ISP Gatehouse chose */
export const CHAIN_VERIFY = "reroute_verify";
export const CHAIN_MISROUTED = "misrouted";
export const preRoutedChain = (ispIndex: number) => `pre_routed_${ispIndex}`;
export const misrouteChain = (ispIndex: number) => `misroute_${ispIndex}`;
export const preSourceChain = (n: number) => `pre_src_${n}`;
export const PRE_CHAIN_LEADING = "pre_leading_rules";
export const CHAIN_DROP_RULE = "drop_rule";
export const CHAIN_DROP_UNMATCHED = "drop_unmatched";
export const CHAIN_LEADING = "leading_rules";
export const routedChain = (ispIndex: number) => `routed_${ispIndex}`;
/** an interface several ISPs share: the next hop routing picked tells them apart (n: the lowest ISP index on it) */
export const byNextHopChain = (n: number) => `by_nexthop_${n}`;
export const restoreChain = (ispIndex: number) => `restore_${ispIndex}`;
export const sourceChain = (n: number) => `src_${n}`;
export const actionChain = (n: number) => `act_${n}`;
export const outcomeChain = (n: number) => `out_${n}`;
export const natChain = (n: number) => `nat_${n}`;

/**
 * The rules' counters (docs/semantics.md, "Counters"): elements of one dynamic, counter-flagged set
 * keyed by the rule's slot (core/spec/marks.ts). The datapath adds a rule's elements when its
 * connections move, and the agent deletes those that did not move for RULE_HIT_IDLE_MS, so a
 * listing (`nft list set`) holds the rules that are busy, not every rule; the agent knows which
 * rule a slot is from the ruleset it loaded.
 */
export const SET_RULE_HITS = "rule_hits";
/**
 * The static counter set of earlier agents (one element per rule, its id as comment, listed in
 * full at every read): the first load with SET_RULE_HITS deletes it.
 */
export const SET_RULE_COUNTS_LEGACY = "rule_counts";
/** counts the packets of classified connections, after the classifier has marked the first */
export const CHAIN_RULE_TRAFFIC = "count_traffic";

/**
 * The named counters an agent from before the set kept per rule (`rule_<id>`, `traffic_<id>`):
 * the first load with the set deletes them.
 */
export const isLegacyRuleCounter = (name: string): boolean => /^(rule|traffic)_./.test(name);

export const SET_ISP_IFACES = "isp_ifaces";
export const SET_APPLIED = "applied";
export const MAP_ROUTED_ISP = "egress_isp";
export const MAP_PRE_ROUTED_ISP = "pre_routed_isp";
/** connections whose first packet routing sent where the lookup did not expect, per real ISP */
export const retrySet = (ispIndex: number) => `retry_${ispIndex}`;
export const retryOtherSet = (ispIndex: number) => `retry_other_${ispIndex}`;
export const MAP_REROUTE_RESTORE = "reroute_restore";
export const MAP_BY_SOURCE = "by_source";
export const sourceTierMap = (prefix: number) => `by_source_${prefix}`;
export const MAP_PRE_BY_SOURCE = "pre_by_source";
export const preSourceTierMap = (prefix: number) => `pre_by_source_${prefix}`;
export const MAP_NAT_ACTIONS = "nat_actions";
export const poolMap = (poolNumber: number) => `pool_${poolNumber}`;

export const GUARD_SET_ISP_IFACES = "isp_ifaces";
export const GUARD_CHAIN = "postrouting";
/** the classifier runs after routing, before the NAT chain (srcnat = 100) reads its mark */
export const CLASSIFY_PRIORITY = 95;
/** right after the classifier: a first packet's connection mark already names its rule */
export const RULE_TRAFFIC_PRIORITY = 96;
/** after the NAT chains (srcnat = 100), so a connection's SNAT status is known */
export const GUARD_PRIORITY = 110;

/** the LAN interfaces, and every interface LAN traffic may leave by (LAN, ISP, internal) */
export const GUARD_SET_LAN_IFACES = "lan_ifaces";
export const GUARD_SET_PERMITTED_IFACES = "permitted_ifaces";
export const GUARD_FORWARD_CHAIN = "forward";

/** per on-link pool address: ARP requests for it that came in, and ARP replies for it that went out */
export const ARP_SET_ASKED = "onlink_asked";
export const ARP_SET_ANSWERED = "onlink_answered";
export const ARP_CHAIN_IN = "arp_in";
export const ARP_CHAIN_OUT = "arp_out";

// Inbound virtual services (virtual-services.ts)
/** nat prerouting: one lookup per new connection to a virtual address */
export const CHAIN_VS_DNAT = "vs_dnat";
export const CHAIN_VS_COUNT = "vs_count";
export const CHAIN_VS_PERSIST = "vs_persist";
export const CHAIN_VS_SNAT = "vs_fullnat";
export const MAP_VS_SERVICES = "vs_services";
export const MAP_VS_SERVICES_ANY = "vs_services_any";
export const MAP_VS_PERSIST_BY_VIP = "vs_persist_by_vip";
export const SET_VS_RS_NEW = "vs_rs_new";
export const SET_VS_RS_IN = "vs_rs_in";
export const SET_VS_RS_OUT = "vs_rs_out";
export const SET_VS_SERVICE_IN = "vs_service_in";
export const vsChain = (n: number) => `vs_${n}`;
export const vsBucketMap = (n: number) => `vs_${n}_buckets`;
/** the timeout is part of the name: a map's timeout cannot change in place */
export const vsPersistMap = (n: number, seconds: number) => `vs_${n}_persist_${seconds}`;
export const vsPersistChain = (n: number) => `vs_persist_${n}`;
/** direct routing: raw prerouting, every packet to a DR virtual address (vs-dr.ts) */
export const CHAIN_VS_DR = "vs_dr";
export const CHAIN_VS_DR_COUNT = "vs_dr_count";
export const MAP_VS_DR_SERVICES = "vs_dr_services";
export const MAP_VS_DR_SERVICES_ANY = "vs_dr_services_any";
export const SET_VS_DR_RS_NEW = "vs_dr_rs_new";
export const SET_VS_DR_RS_IN = "vs_dr_rs_in";
export const vsDrServerChain = (n: number, server: number) => `vs_${n}_rs_${server}`;
export const vsDrSorryChain = (n: number) => `vs_${n}_sorry`;
/** named by a hash of the service's address, protocol and port: the flows stay with their service */
export const vsDrFlowMap = (hash: string) => `vs_dr_flows_${hash}`;
/** TCP flows the client has closed (FIN or RST): kept a short while, no longer refreshed */
export const vsDrClosingMap = (hash: string) => `vs_dr_closing_${hash}`;

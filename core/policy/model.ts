import { z } from "zod";
import { expandShortRange, isIPv4, parseAddressRange, parseCidr } from "../address";
import { ON_FAILOVER, type OnFailover } from "../spec/failover-route";
import { MAX_IP_RULE_PRIORITY_BASE } from "../spec/marks";
import { ID_RE, zComment, zId, zInterfaceName, zIPv4, zName, zPort } from "./fields";
import { zMatchCriteria } from "./match-criteria";
import { zVirtualService } from "./virtual-service";

export { ID_RE, zComment, zId, zInterfaceName, zIPv4, zName, zPort };

/**
 * The policy model: the shapes of ISPs, pools, zones, rules and cluster settings, shared by the
 * UI forms, the API and the compiler. Field-level checks live here so that every boundary gives
 * the same message; cross-entity checks live in validate.ts.
 */

export const zCidr = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const r = parseCidr(s);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.error });
  });

/**
 * An interface address with its prefix length, as `ip addr` shows it: 198.51.100.2/24. Unlike a
 * network (zCidr), the host part may be set: it is the address, the prefix is the link's subnet.
 */
export const zInterfaceAddress = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
    if (m === null || !isIPv4(m[1] as string) || Number(m[2]) < 1 || Number(m[2]) > 32) {
      ctx.addIssue({ code: "custom", message: "must be an address with its prefix length such as 198.51.100.2/24" });
    }
  });

/** An address, a range (also the short "a.b.c.71-73", stored in full) or a network. */
export const zAddressRange = z
  .string()
  .trim()
  .overwrite(expandShortRange)
  .superRefine((s, ctx) => {
    const r = parseAddressRange(s);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.error });
  });

export const zPortRange = z
  .object({ from: zPort, to: zPort })
  .refine((r) => r.from <= r.to, { message: "the first port must not be above the last", path: ["to"] });

export const ALGORITHMS = ["sh", "sdh", "sdph", "random", "rr"] as const;
export const zAlgorithm = z.enum(ALGORITHMS);
export type Algorithm = z.infer<typeof zAlgorithm>;
export const ALGORITHM_LABELS: Record<Algorithm, string> = {
  sh: "source hash",
  sdh: "source + destination hash",
  sdph: "5-tuple hash",
  random: "random",
  rr: "round robin",
};

export const PROTOCOLS = ["any", "tcp", "udp", "icmp"] as const;
export const zProtocol = z.enum(PROTOCOLS);
export type Protocol = z.infer<typeof zProtocol>;

export const zMonitor = z
  .object({
    intervalMs: z.number().int().min(20, "must be at least 20 ms").max(60_000, "must be at most 60 s").default(500),
    downAfter: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").default(3),
    upAfter: z.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(5),
    holdDownMs: z.number().int().min(0).max(3_600_000, "must be at most one hour").default(10_000),
    lossThresholdPct: z.number().min(0).max(100, "must be a percentage").default(50),
    latencyThresholdMs: z.number().int().min(1).max(60_000).default(1000),
  })
  .prefault({});
export type Monitor = z.infer<typeof zMonitor>;

/**
 * How the gateway gets its address and next hop on the ISP link. static: as the policy says;
 * dhcp, pppoe: the gateway's DHCP client or pppd sets them, and the agent follows what they set
 * (the policy's next hop is then only the value used until one is learned).
 */
export const ADDRESSING_VALUES = ["static", "dhcp", "pppoe"] as const;
export const zAddressing = z.enum(ADDRESSING_VALUES);
export type Addressing = z.infer<typeof zAddressing>;
export const ADDRESSING_LABELS: Record<Addressing, string> = {
  static: "static",
  dhcp: "DHCP (learned from the lease)",
  pppoe: "PPPoE (learned from the ppp link)",
};

export const zIspFields = z.object({
  name: zName,
  interface: zInterfaceName,
  addressing: zAddressing.default("static"),
  nextHop: zIPv4,
  /**
   * The gateway's own address on the ISP link with the link's prefix length (198.51.100.2/24):
   * it says which subnet is on the link, so on-link pools can be checked. null: not given.
   */
  localAddress: zInterfaceAddress.nullable().default(null),
  probeTargets: z.array(zIPv4).max(8, "at most 8 probe targets").default([]),
  monitor: zMonitor,
  failoverMode: z.enum(["manual", "automatic"]).default("manual"),
  failbackMode: z.enum(["manual", "automatic"]).default("manual"),
  flushOnFailback: z.boolean().default(false),
  backupIspIds: z.array(zId).max(8, "at most 8 backups").default([]),
  defaultPoolId: zId.nullable().default(null),
  comment: zComment,
});
export const MAX_ISPS = 250;
export const zIsp = zIspFields.extend({
  id: zId,
  /** 1..250, assigned at creation and kept: the ISP's number in marks and routing table ids */
  index: z.number().int().min(1).max(MAX_ISPS),
});
export type Isp = z.infer<typeof zIsp>;

export const MAX_POOL_ADDRESSES = 65_536;

/**
 * routed: the ISP routes the addresses to the gateway; on-link: they are in the ISP link's subnet
 * and the ISP router finds them by ARP, so the gateway puts them on the uplink; interface: the
 * ISP interface's own current address, whatever it is at the moment (iptables MASQUERADE): the
 * pool has no addresses of its own and follows DHCP and PPPoE changes by itself.
 */
export const POOL_MODES = ["routed", "on-link", "interface"] as const;
export const zPoolMode = z.enum(POOL_MODES);
export type PoolMode = z.infer<typeof zPoolMode>;
export const POOL_MODE_LABELS: Record<PoolMode, string> = {
  routed: "routed",
  "on-link": "on-link (ARP)",
  interface: "interface address (MASQUERADE)",
};

/** Whether a pool of this mode lists its own addresses (an interface-address pool has none). */
export const poolHasAddresses = (mode: PoolMode) => mode !== "interface";

const zPoolShape = z.object({
  name: zName,
  ispId: zId,
  mode: zPoolMode.default("routed"),
  /** empty exactly when the mode is interface (the check below says so, naming the field) */
  addresses: z.array(zAddressRange).max(64, "at most 64 items").default([]),
  portRange: zPortRange.nullable().default(null),
  comment: zComment,
});

function checkPoolAddresses(pool: { mode: PoolMode; addresses: string[] }, ctx: z.RefinementCtx) {
  if (poolHasAddresses(pool.mode) && pool.addresses.length === 0) {
    ctx.addIssue({ code: "custom", path: ["addresses"], message: "needs at least one address" });
  }
  if (!poolHasAddresses(pool.mode) && pool.addresses.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["addresses"],
      message: "must be empty: an interface-address pool uses the ISP interface's current address",
    });
  }
}

export const zPoolFields = zPoolShape.superRefine(checkPoolAddresses);
export const zPool = zPoolFields.extend({ id: zId });
/** The first pool of a new ISP, created with it: the ISP is not there yet to be named. */
export const zNewIspPool = zPoolShape.omit({ ispId: true }).superRefine(checkPoolAddresses);
export type Pool = z.infer<typeof zPool>;

export const zZoneFields = z.object({
  name: zName,
  networks: z.array(zCidr).min(1, "needs at least one network").max(256, "at most 256 networks"),
  comment: zComment,
});
export const zZone = zZoneFields.extend({ id: zId });
export type Zone = z.infer<typeof zZone>;

export const zRuleSource = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("zone"), zoneId: zId }),
  z.object({ kind: z.literal("cidrs"), cidrs: z.array(zCidr).min(1, "needs at least one network").max(64) }),
]);
export type RuleSource = z.infer<typeof zRuleSource>;

export const zRuleAction = z.discriminatedUnion("type", [
  z.object({ type: z.literal("snat"), poolId: zId, algorithm: zAlgorithm }),
  z.object({ type: z.literal("exclude") }),
  z.object({ type: z.literal("drop") }),
]);
export type RuleAction = z.infer<typeof zRuleAction>;

export const zOnFailover = z.enum(ON_FAILOVER);
export type { OnFailover };
export const ON_FAILOVER_LABELS: Record<OnFailover, string> = {
  follow: "follow the ISP's failover",
  stay: "never move (stays or drops with its ISP)",
  own: "own backup ISP and pool",
};

export const MAX_PRIORITY = 1_000_000;

export const zRuleFields = z.object({
  priority: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(MAX_PRIORITY, `must be at most ${MAX_PRIORITY}`)
    .nullable()
    .default(null),
  source: zRuleSource,
  destinations: z.array(zCidr).max(64, "at most 64 networks").default([]),
  protocol: zProtocol.default("any"),
  ...zMatchCriteria,
  egressIspId: zId.nullable().default(null),
  action: zRuleAction,
  redirectIspId: zId.nullable().default(null),
  /**
   * follow: the rule's SNAT pool on the ISP's backup (else the backup's default pool); own: the
   * pool on the rule's own backup ISP (else that ISP's default pool)
   */
  fallbackPoolId: zId.nullable().default(null),
  /** how the rule's traffic takes a failover of its ISP (core/spec/failover-route.ts) */
  onFailover: zOnFailover.default("follow"),
  /** onFailover own: the ISP the rule's traffic goes to instead of the ISP's own backup */
  failoverIspId: zId.nullable().default(null),
  enabled: z.boolean().default(true),
  comment: zComment,
});
export const zRule = zRuleFields.extend({
  id: zId,
  /** creation order within the cluster; the last tie-breaker of rule order */
  seq: z.number().int().min(0),
});
export type Rule = z.infer<typeof zRule>;

/**
 * How the cluster's gateways back each other up. none: each gateway stands alone (with two or more
 * gateways, each SNATs to its own slice of every pool, core/policy/slices.ts); active_standby: one
 * gateway at a time holds the LAN gateway address and the pools (keepalived VRRP), the others wait
 * with the same ruleset; active_active: every gateway holds its own LAN address and pool slices and
 * backs up the others'.
 */
export const HA_MODE_VALUES = ["none", "active_standby", "active_active"] as const;
export const zHaMode = z.enum(HA_MODE_VALUES);
export type HaMode = z.infer<typeof zHaMode>;
export const HA_MODE_LABELS: Record<HaMode, string> = {
  none: "none (standalone gateways)",
  active_standby: "active/standby (VRRP)",
  active_active: "active/active (VRRP, one group per gateway)",
};

/** A VRRP virtual router id: 1..255, unique among the instances on one link. */
export const zVrid = z
  .number()
  .int("must be a whole number")
  .min(1, "must be 1 or more")
  .max(255, "must be 255 or less");

/**
 * A gateway's VRRP priority as the operator sets it. 1 is what a drained gateway gets everywhere
 * and 250 what an active/active gateway gets in its own group, so neither can be chosen.
 */
export const MIN_GATEWAY_PRIORITY = 2;
export const MAX_GATEWAY_PRIORITY = 249;
export const zGatewayPriority = z
  .number()
  .int("must be a whole number")
  .min(MIN_GATEWAY_PRIORITY, `must be ${MIN_GATEWAY_PRIORITY} or more (1 is for a drained gateway)`)
  .max(MAX_GATEWAY_PRIORITY, `must be ${MAX_GATEWAY_PRIORITY} or less (250 is an active/active gateway's own group)`);

/** Per ISP, cluster-wide: the VRRP instance on the ISP's link (active/standby). */
export const zHaLink = z.object({
  ispId: zId,
  /** the VRID of the ISP link's instance */
  vrid: zVrid,
  /**
   * the gateway-side address of the link that floats with the master, with the link's prefix
   * (198.51.100.4/24): the next hop the ISP routes routed pools to. null: none (on-link pools only)
   */
  floatingAddress: zInterfaceAddress.nullable().default(null),
});
export type HaLink = z.infer<typeof zHaLink>;

/**
 * VRRPv3 adverts every 100 ms by default: a backup declares the master dead after three missed
 * adverts plus its skew time (about 0.35 s), which leaves most of a one-second outage budget to
 * promoting the backup (committing synced connections, gratuitous ARP). The adverts cost a few
 * dozen bytes ten times a second per instance.
 */
export const DEFAULT_ADVERT_INTERVAL_MS = 100;

export const zHaSettingsFields = z.object({
  mode: zHaMode.default("none"),
  /**
   * active/standby: the clients' default gateway, with the LAN's prefix (100.64.0.1/24); it
   * floats with the master
   */
  lanVirtualAddress: zInterfaceAddress.nullable().default(null),
  /** active/standby: the VRID of the LAN instance */
  lanVrid: zVrid.default(51),
  advertIntervalMs: z
    .number()
    .int("must be a whole number")
    .min(10, "must be at least 10 ms")
    .max(40_950, "must be at most 40950 ms (the VRRPv3 limit)")
    .refine((n) => n % 10 === 0, "must be a multiple of 10 ms (VRRPv3 counts in centiseconds)")
    .default(DEFAULT_ADVERT_INTERVAL_MS),
  /** a higher-priority gateway takes its groups back when it returns; off: fail back only by hand */
  preempt: z.boolean().default(false),
  /** adverts go to the other gateways' own addresses by unicast (for networks without multicast) */
  unicast: z.boolean().default(true),
  /** lowered from a gateway's priority for each of its ISP links that is down (0: no link tracking) */
  trackLinkWeight: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(253, "must be at most 253")
    .default(50),
  /** connection sync with conntrackd so established connections survive a takeover */
  sync: z
    .object({
      enabled: z.boolean().default(false),
      /** the link the gateways sync over; null: each gateway's LAN interface */
      interface: zInterfaceName.nullable().default(null),
    })
    .prefault({}),
  /** active/standby: one entry per ISP whose link has a VRRP instance */
  links: z.array(zHaLink).max(MAX_ISPS, `at most ${MAX_ISPS} ISP links`).default([]),
});
export const zHaSettings = zHaSettingsFields.prefault({});
export type HaSettings = z.infer<typeof zHaSettings>;

/** One gateway's own values on one ISP link; null fields take the ISP's. */
export const zGatewayLink = z.object({
  ispId: zId,
  /** the gateway's interface to the ISP when it differs from the ISP's */
  interface: zInterfaceName.nullable().default(null),
  /** the gateway's own address on the link, with the link's prefix (198.51.100.2/24) */
  localAddress: zInterfaceAddress.nullable().default(null),
  /** the next hop from this gateway when it differs from the ISP's */
  nextHop: zIPv4.nullable().default(null),
  /** active/active: this gateway's floating address on the link (the next hop for its routed slice) */
  floatingAddress: zInterfaceAddress.nullable().default(null),
});
export type GatewayLink = z.infer<typeof zGatewayLink>;

/**
 * One gateway's settings, drafted and published with the policy. Gateways themselves live
 * outside the draft (they enroll and leave on their own), so their settings are keyed by gateway
 * id; entries of gateways that no longer exist are ignored.
 */
export const zGatewaySettingsFields = z.object({
  /** the gateway's interface to the LAN */
  lanInterface: zInterfaceName.nullable().default(null),
  /** the gateway's own LAN address with the LAN's prefix (100.64.0.2/24) */
  lanAddress: zInterfaceAddress.nullable().default(null),
  priority: zGatewayPriority.default(100),
  /** the gateway's own address on the sync link (connection sync) */
  syncAddress: zIPv4.nullable().default(null),
  /** active/active: the default gateway of the clients this gateway serves, with the LAN's prefix */
  lanVirtualAddress: zInterfaceAddress.nullable().default(null),
  /** active/active: the VRID of this gateway's group on every link */
  vrid: zVrid.nullable().default(null),
  links: z.array(zGatewayLink).max(250, "at most 250 ISP links").default([]),
});
export const zGatewaySettings = zGatewaySettingsFields.extend({ gatewayId: zId });
export type GatewaySettings = z.infer<typeof zGatewaySettings>;

/**
 * How rules are ordered (docs/semantics.md "Rule order", core/policy/order.ts). specificity: the
 * most specific source first, as lvs-snat; list: the order the rules are listed in, first match
 * wins, as iptables chains and dsnat zones.
 */
export const RULE_ORDER_MODES = ["specificity", "list"] as const;
export const zRuleOrderMode = z.enum(RULE_ORDER_MODES);
export type RuleOrderMode = z.infer<typeof zRuleOrderMode>;
export const RULE_ORDER_LABELS: Record<RuleOrderMode, string> = {
  specificity: "most specific first",
  list: "rules apply in the order listed",
};

export const zClusterSettings = z.object({
  /** what happens to LAN traffic that leaves via an ISP and matches no rule */
  unmatched: z.enum(["drop", "forward"]).default("drop"),
  /** how rules are ordered: "list" (the order listed) or, absent, most specific first */
  ruleOrder: zRuleOrderMode.optional(),
  /** jhash seed: fixed per cluster so reloads never move clients to other addresses */
  hashSeed: z.number().int().min(0).max(0xffffffff),
  /**
   * the first of the priorities Gatehouse's ip rules take (base+1 .. base+500); absent: the
   * default. Lower numbers win: it must come before every operator rule that could route the
   * same traffic
   */
  ipRulePriorityBase: z.number().int().min(1).max(MAX_IP_RULE_PRIORITY_BASE).optional(),
  /**
   * the interfaces the LAN is behind: LAN traffic that leaves by an interface that is neither a
   * LAN, an ISP nor listed as internal is dropped (and counted) by the guard. Empty: no such check.
   */
  lanInterfaces: z.array(zInterfaceName).max(32, "at most 32 interfaces").default([]),
  /** other interfaces LAN traffic may leave by un-NATed (a DMZ, a management network) */
  internalInterfaces: z.array(zInterfaceName).max(32, "at most 32 interfaces").default([]),
  /** high availability between the cluster's gateways */
  ha: zHaSettings,
  /** per-gateway values (links, LAN, VRRP priority), one entry per gateway that has any */
  gateways: z.array(zGatewaySettings).max(64, "at most 64 gateways").default([]),
});
export type ClusterSettings = z.infer<typeof zClusterSettings>;

/** A whole policy: what a draft holds and what a revision freezes. */
export const zPolicy = z.object({
  settings: zClusterSettings,
  isps: z.array(zIsp),
  pools: z.array(zPool),
  zones: z.array(zZone),
  rules: z.array(zRule),
  /** inbound virtual services (absent in policies from before they existed) */
  virtualServices: z.array(zVirtualService).optional(),
});
export type Policy = z.infer<typeof zPolicy>;

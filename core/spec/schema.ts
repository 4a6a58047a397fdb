import { z } from "zod";
import { MAX_IP_RULE_PRIORITY_BASE } from "./marks";
import { ON_FAILOVER } from "./failover-route";
import { zSpecVirtualService } from "./virtual-services";
import {
  zAddressing,
  zCidr,
  zId,
  zInterfaceName,
  zInterfaceAddress,
  zIPv4,
  zMonitor,
  zName,
  zPoolMode,
  zPortRange,
  zProtocol,
  zRuleAction,
} from "../policy/model";
import { zMatchCriteria } from "../policy/match-criteria";

/**
 * GatewaySpec: the desired state the console sends to one gateway's agent. It is compiled from a
 * published revision plus the cluster's failover state (core/policy/compile.ts) and is all the
 * agent needs: the agent never sees the editable policy model.
 *
 * Bump SPEC_VERSION on any incompatible change; an agent refuses a spec whose version it does not know.
 */
export const SPEC_VERSION = 1 as const;

export const zSpecIsp = z.object({
  id: zId,
  name: zName,
  /** 1..250: the ISP's number in marks and routing table ids (see marks.ts) */
  index: z.number().int().min(1).max(250),
  interface: zInterfaceName,
  /**
   * static: nextHop is the next hop. dhcp, pppoe: the agent uses the next hop (and address) the
   * gateway's DHCP client or pppd set on the interface, and nextHop only until it has learned one
   * (a spec from a console before dynamic uplinks has only static ISPs)
   */
  addressing: zAddressing.default("static"),
  nextHop: zIPv4,
  /**
   * set by the agent itself (never by the console) on a DHCP or PPPoE ISP whose interface has no
   * next hop yet: its table gets no route (the kernel refuses one via an address off every link)
   */
  nextHopUnknown: z.boolean().optional(),
  /** the next hop when the ISP was given no probe targets */
  probeTargets: z.array(zIPv4).min(1),
  monitor: zMonitor,
  failoverMode: z.enum(["manual", "automatic"]),
  failbackMode: z.enum(["manual", "automatic"]),
  flushOnFailback: z.boolean(),
  /** the failover plan: backups in order of preference, each with the pool to use when no rule fallback is set */
  backups: z.array(z.object({ ispId: zId, defaultPoolId: zId.nullable() })),
  /** the ISP's own default pool: the pool of a rule that has this ISP as its own backup (absent in older specs) */
  defaultPoolId: zId.nullable().default(null),
  /** admin state decided in the console (manual failover); the agent adds its own automatic decisions */
  adminState: z.enum(["active", "failed_over"]),
  /** used when adminState is failed_over: the backup the operator chose, else the first healthy one */
  adminBackupIspId: zId.nullable(),
  /**
   * the failover epoch of the operator's last restore of this ISP: an agent holding the ISP
   * failed over by its own decision (manual failback) lets it go when this is newer than the hold
   */
  restoredEpoch: z.number().int().min(0).optional(),
});
export type SpecIsp = z.infer<typeof zSpecIsp>;

export const zSpecPool = z
  .object({
    id: zId,
    name: zName,
    ispId: zId,
    /**
     * on-link: the agent puts the addresses on the ISP's interface so the ISP router finds them by
     * ARP (a spec from a console before pool modes has only routed pools)
     */
    mode: zPoolMode.default("routed"),
    /**
     * every address of the pool in a stable order (sorted numerically); index i is hash bucket i.
     * Empty exactly for an interface-address pool (masquerade to the interface's current address)
     */
    addresses: z.array(zIPv4),
    portRange: zPortRange.nullable(),
  })
  .refine((p) => (p.mode === "interface") === (p.addresses.length === 0), {
    message: "an interface-address pool has no addresses and every other pool has at least one",
    path: ["addresses"],
  });
export type SpecPool = z.infer<typeof zSpecPool>;

/** A compiled rule's action has the policy model's shape: pool ids stay the same in the spec. */
export const zSpecAction = zRuleAction;
export type SpecAction = z.infer<typeof zSpecAction>;

/**
 * One entry per (rule, source network, destination network), already in the effective order:
 * the first entry that matches a connection decides it (docs/semantics.md).
 */
export const zSpecEntry = z.object({
  ruleId: zId,
  /** 1-based position of the rule in the effective rule order, for traces and counters */
  rulePosition: z.number().int().min(1),
  /** the rule's creation number in the cluster (never reused): its traffic counter's slot; absent in older specs */
  ruleSeq: z.number().int().min(0).optional(),
  source: zCidr,
  /** null: any destination */
  destination: zCidr.nullable(),
  protocol: zProtocol,
  /** destination ports, input interfaces and an operator's mark; defaults: any (a spec from before them) */
  ...zMatchCriteria,
  /** null: any ISP */
  egressIspId: zId.nullable(),
  action: zSpecAction,
  redirectIspId: zId.nullable(),
  fallbackPoolId: zId.nullable(),
  /** how the rule takes a failover of its ISP (core/spec/failover-route.ts); older specs: follow */
  onFailover: z.enum(ON_FAILOVER).default("follow"),
  /** onFailover own: the rule's own backup ISP */
  failoverIspId: zId.nullable().default(null),
});
export type SpecEntry = z.infer<typeof zSpecEntry>;

/** keepalived instance and group names: safe in its config and in file names */
export const zVrrpName = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 letters, digits, '_' or '-'");

/**
 * One VRRP instance: addresses that float between the gateways on one link. The LAN instance
 * carries the clients' default gateway; an ISP instance carries the gateway side of the ISP link
 * (the next hop the ISP routes routed pools to) and the on-link pool addresses.
 */
export const zVrrpInstance = z.object({
  name: zVrrpName,
  kind: z.enum(["lan", "isp"]),
  /** the ISP of an "isp" instance; null for the LAN */
  ispId: zId.nullable(),
  /** this gateway's interface on the link */
  interface: zInterfaceName,
  /** 1..255, unique per link */
  vrid: z.number().int().min(1).max(255),
  /** this gateway's own address on the link (the source of its adverts) */
  ownAddress: zIPv4,
  /** the other gateways' own addresses on the link: adverts go to them by unicast; empty: multicast */
  unicastPeers: z.array(zIPv4),
  /** addresses that float with the instance, with prefix length (pool addresses are /32) */
  virtualAddresses: z.array(zInterfaceAddress).min(1),
});
export type VrrpInstance = z.infer<typeof zVrrpInstance>;

/**
 * A sync group: instances that move together (keepalived's vrrp_sync_group). Active/standby has
 * one group for the whole cluster; active/active has one per gateway, owned by it and backed up by
 * the others.
 */
export const zVrrpGroup = z.object({
  name: zVrrpName,
  /** the gateway the group belongs to (active/active); null in active/standby */
  ownerGatewayId: zId.nullable(),
  /** this gateway's VRRP priority in the group, 1..254 (a drained gateway gets 1) */
  priority: z.number().int().min(1).max(254),
  instances: z.array(zVrrpInstance).min(1),
});
export type VrrpGroup = z.infer<typeof zVrrpGroup>;

/** Connection sync with conntrackd (FTFW) so established connections survive a takeover. */
export const zSpecConntrackSync = z.object({
  interface: zInterfaceName,
  ownAddress: zIPv4,
  peerAddresses: z.array(zIPv4).min(1),
  port: z.number().int().min(1).max(65535).default(3780),
});
export type SpecConntrackSync = z.infer<typeof zSpecConntrackSync>;

export const HA_MODES = ["active_standby", "active_active"] as const;
export const zSpecHa = z.object({
  mode: z.enum(HA_MODES),
  /** VRRPv3 advert interval, in steps of 10 ms */
  advertIntervalMs: z
    .number()
    .int()
    .min(10)
    .max(40_950)
    .refine((n) => n % 10 === 0, "must be a multiple of 10 ms"),
  /** a higher-priority gateway takes its groups back when it returns */
  preempt: z.boolean(),
  /** lowered from the priority for each of this gateway's ISP links that is down (0: no tracking) */
  trackLinkWeight: z.number().int().min(0).max(253),
  /** the operator is draining this gateway: its priority is 1 everywhere and peers hold its addresses */
  drained: z.boolean().default(false),
  groups: z.array(zVrrpGroup).min(1),
  /** null: no connection sync */
  sync: zSpecConntrackSync.nullable(),
});
export type SpecHa = z.infer<typeof zSpecHa>;

export const zGatewaySpec = z.object({
  specVersion: z.literal(SPEC_VERSION),
  clusterId: zId,
  clusterName: zName,
  gatewayId: zId,
  gatewayName: zName,
  /** published revision number this spec was compiled from */
  revision: z.number().int().min(0),
  /** changes whenever the failover state changes, so an agent can tell specs of one revision apart */
  failoverEpoch: z.number().int().min(0),
  settings: z.object({
    unmatched: z.enum(["drop", "forward"]),
    hashSeed: z.number().int().min(0).max(0xffffffff),
    /** where Gatehouse's ip rules start (marks.ts); absent: the default */
    ipRulePriorityBase: z.number().int().min(1).max(MAX_IP_RULE_PRIORITY_BASE).optional(),
    /** LAN traffic leaving by an interface that is none of these, nor an ISP's, is dropped by the guard */
    lanInterfaces: z.array(zInterfaceName).default([]),
    internalInterfaces: z.array(zInterfaceName).default([]),
  }),
  isps: z.array(zSpecIsp).max(250),
  /**
   * In a high-availability cluster each pool's addresses here are this gateway's slice (the
   * addresses it SNATs new connections to); keepalived, not the agent, puts on-link pool
   * addresses on links (they float with the groups).
   */
  pools: z.array(zSpecPool),
  entries: z.array(zSpecEntry),
  /** null: a standalone gateway (the agent puts on-link pool addresses on the uplink itself) */
  ha: zSpecHa.nullable().default(null),
  /** inbound virtual services (core/spec/virtual-services.ts); a spec from before them has none */
  virtualServices: z.array(zSpecVirtualService).default([]),
});
export type GatewaySpec = z.infer<typeof zGatewaySpec>;

import { z } from "zod";
import { zId, zIPv4, zPort } from "../policy/model";
import { zAgentVersion } from "./agent-api";

/**
 * The health report: what an agent tells the console about its links every HEALTH_REPORT_MS, and
 * right away after a link state change, a switch or a load. Between two reports the agent takes a
 * sample of the links' figures every HEALTH_SAMPLE_MS and the next report carries them, so the
 * console's history keeps one sample a second while it takes a request every few seconds. It is
 * the agent protocol's lightweight endpoint next to `status`:
 *
 *   POST /api/agent/v1/health   Authorization: Bearer <agent token>   body HealthReport -> 200 HealthAck
 *
 * It never carries facts (no `ip addr` every second) and the console writes no audit event for it
 * except the failover events it carries, each exactly once (by id).
 */
export const HEALTH_ENDPOINT = "health";
export const HEALTH_REPORT_MS = 5_000;
export const HEALTH_SAMPLE_MS = 1_000;
/** samples a report carries at most: a minute's worth (a console that was away for longer loses the older ones) */
export const MAX_SAMPLES_PER_REPORT = 60;
/** and at most this much of them (JSON), so a report with many ISPs stays within MAX_BODY_BYTES */
export const MAX_SAMPLE_BYTES_PER_REPORT = 96 * 1024;
/** the conntrack table's fill (a file read); the counts per ISP come with the pool usage dump */
export const CONNTRACK_COUNT_MS = 5_000;
export const MAX_EVENTS_PER_REPORT = 50;

const text = (max: number) => z.string().max(max);
const zIso = z.iso.datetime({ offset: true });
const zCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const zMs = z.number().min(0).max(86_400_000);
const zKey = z.object({
  revision: z.number().int().min(0).max(999_999_999),
  failoverEpoch: z.number().int().min(0).max(999_999_999),
});

export const LINK_STATES = ["unknown", "up", "degraded", "down"] as const;
export const zLinkState = z.enum(LINK_STATES);

export const zIspHealth = z.object({
  ispId: zId,
  state: zLinkState,
  since: zIso,
  reason: text(400),
  /** lost probe rounds over the last ~10 s, percent */
  lossPct: z.number().min(0).max(100).nullable(),
  /** mean round-trip time over the same window */
  rttMs: zMs.nullable(),
  lastRttMs: zMs.nullable(),
  probesSent: zCount,
  probesLost: zCount,
  proberError: text(400),
  /** where this gateway sends the ISP's traffic now; null: through the ISP itself */
  failover: z.object({ backupIspId: zId, mode: z.enum(["admin", "automatic"]), since: zIso }).nullable(),
  /** failed over by the agent, waiting for an operator to restore it (manual failback) */
  held: z.boolean(),
  /** why a failover that should happen cannot; empty when none */
  alert: text(600),
  /** connections whose ct mark names this ISP; null when not counted */
  connections: zCount.nullable(),
  /**
   * on-link pool addresses the ISP router keeps asking for by ARP while this gateway does not
   * answer (agent/health/arp-watch.ts): replies to them are lost
   */
  unansweredArp: z.array(zIPv4).max(64).default([]),
  /**
   * a DHCP or PPPoE uplink: the address and next hop this gateway's client has now (null fields:
   * none, e.g. no lease or the ppp link is down), and since when; absent for static ISPs
   */
  learned: z.object({ address: zIPv4.nullable(), nextHop: zIPv4.nullable(), at: zIso }).optional(),
});
export type IspHealth = z.infer<typeof zIspHealth>;

/** One second's link figures, as the console's history keeps them (core/health/series.ts). */
export const zHealthSampleIsp = zIspHealth
  .pick({ ispId: true, state: true, lossPct: true, rttMs: true, connections: true })
  .extend({ backupIspId: zId.nullable() });
export const zHealthSample = z.object({
  /** when the agent took it (its clock; the console places it by its distance to the report's `at`) */
  at: zIso,
  isps: z.array(zHealthSampleIsp).max(250),
});
export type HealthSample = z.infer<typeof zHealthSample>;
export type HealthSampleIsp = z.infer<typeof zHealthSampleIsp>;

/** An ISP's health cut to what a sample keeps (the agent's samples, the console's sample of a report). */
export function sampleIspOf(i: IspHealth): HealthSampleIsp {
  return {
    ispId: i.ispId,
    state: i.state,
    lossPct: i.lossPct,
    rttMs: i.rttMs,
    connections: i.connections,
    backupIspId: i.failover?.backupIspId ?? null,
  };
}

export const zSwitchTimings = z.object({
  detectMs: zMs.nullable(),
  applyMs: zMs,
  flushMs: zMs,
  switchMs: zMs,
  flushed: zCount,
});

/** timings of one switch, measured on the gateway */
export type SwitchTimings = z.infer<typeof zSwitchTimings>;

/** One switch (or alert) the agent made or raised; `id` lets the console record it exactly once. */
export const zFailoverEvent = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  kind: z.enum(["failover", "failback", "alert", "alert_cleared"]),
  ispId: zId,
  ispName: text(64),
  fromIspId: zId.nullable(),
  toIspId: zId.nullable(),
  mode: z.enum(["admin", "automatic"]),
  reason: text(800),
  at: zIso,
  revision: z.number().int().min(0),
  failoverEpoch: z.number().int().min(0),
  timings: zSwitchTimings.nullable(),
  ok: z.boolean(),
  error: text(2000),
});

export type FailoverEvent = z.infer<typeof zFailoverEvent>;

/** Pool usage and the connections per ISP are one conntrack dump, dearer than a count: refreshed less often. */
export const POOL_USAGE_MS = 10_000;
/**
 * While the conntrack table holds steady and every pool address is far from full, nothing the dump
 * would show moves: the agent dumps every POOL_USAGE_QUIET_FACTOR times POOL_USAGE_MS instead.
 */
export const POOL_USAGE_QUIET_FACTOR = 3;
/** a report must stay well under the agent API's body limit next to 250 ISPs: the busiest addresses go first */
export const MAX_POOL_ADDRESSES_PER_REPORT = 256;

/**
 * Connections SNATed to one pool address of this gateway, as the agent counted them in one pass
 * over the conntrack table (reply direction: the pool address is the reply's destination).
 */
export const zPoolAddressUsage = z.object({
  poolId: zId,
  address: zIPv4,
  /** ports the kernel may pick from for this address: the pool's port range, or the kernel default */
  ports: z.number().int().min(1).max(65_536),
  tcp: zCount,
  udp: zCount,
  /** connections of other protocols (ICMP and the rest; no ports) */
  other: zCount,
  /**
   * the destination (address, port, protocol) that holds the most ports of this address: a
   * connection needs a free source port per pool address, destination and protocol, so this is
   * where the pool fills first; null when no TCP or UDP connection uses the address
   */
  busiest: z
    .object({ protocol: z.enum(["tcp", "udp"]), destination: zIPv4, port: zPort, connections: zCount })
    .nullable(),
});
export type PoolAddressUsage = z.infer<typeof zPoolAddressUsage>;

/** The conntrack table's fill and the kernel's counters of exhaustion (`conntrack -S`, summed over CPUs). */
export const zConntrackStats = z.object({
  count: zCount,
  /** nf_conntrack_max; null when it could not be read */
  max: zCount.nullable(),
  /** a new connection found no room (or clashed) and was dropped */
  insertFailed: zCount,
  /** packets dropped because the table was full */
  drop: zCount,
  earlyDrop: zCount,
});
export type ConntrackStats = z.infer<typeof zConntrackStats>;

export const zPoolUsageReport = z.object({
  /** when the agent counted (its clock): the console stores one sample per count */
  at: zIso,
  addresses: z.array(zPoolAddressUsage).max(MAX_POOL_ADDRESSES_PER_REPORT),
  /** the dump stopped early (time or size bound): the counts are lower bounds */
  partial: z.boolean(),
  conntrack: zConntrackStats.nullable(),
});
export type PoolUsageReport = z.infer<typeof zPoolUsageReport>;

export const zHealthReport = z.object({
  agentVersion: zAgentVersion,
  /** when the agent sent it (its own clock) */
  at: zIso,
  /** the spec the datapath enforces now */
  running: zKey.nullable(),
  /** the last time this agent loaded a spec: which, when (its clock) and how long it took */
  lastLoad: zKey.extend({ at: zIso, ms: zMs }).nullable(),
  isps: z.array(zIspHealth).max(250),
  conntrackTotal: zCount.nullable(),
  /** null until the first count; absent from agents older than pool usage */
  poolUsage: zPoolUsageReport.nullable().default(null),
  events: z.array(zFailoverEvent).max(MAX_EVENTS_PER_REPORT),
  /**
   * the samples taken since the last report the console acknowledged, oldest first, each before
   * the report's own `at` (the report is the sample of its own second); absent from older agents
   */
  samples: z.array(zHealthSample).max(MAX_SAMPLES_PER_REPORT).default([]),
});
export type HealthReport = z.infer<typeof zHealthReport>;

export const zHealthAck = z.object({
  ok: z.literal(true),
  /** ids of the events the console has recorded (now or before) */
  recorded: z.array(z.string()),
});
export type HealthAck = z.infer<typeof zHealthAck>;

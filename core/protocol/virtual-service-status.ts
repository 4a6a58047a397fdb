import { z } from "zod";
import { zId, zIPv4, zPort } from "../policy/fields";

/**
 * What the agent reports about its virtual services: each real server's health as its checker
 * sees it, and traffic like `ipvsadm -Ln --stats --rate` (counters since the last ruleset load,
 * rates over the last report interval).
 *
 * Direct routing (DR) services: the gateway sees the clients' packets only, so packetsOut and
 * bytesOut stay 0; it keeps no conntrack entry, so active counts the flows in its own flow table
 * and inactive the TCP flows whose client sent FIN or RST (kept 120 s more).
 */

export const zRealServerTraffic = z.object({
  /** new connections, packets in (to the server) and out (from it) since the ruleset was loaded */
  connections: z.number().int().min(0),
  packetsIn: z.number().int().min(0),
  packetsOut: z.number().int().min(0),
  bytesIn: z.number().int().min(0),
  bytesOut: z.number().int().min(0),
  /** per second, over the interval since the previous sample; 0 for the first */
  connectionsPerSecond: z.number().min(0),
  packetsInPerSecond: z.number().min(0),
  packetsOutPerSecond: z.number().min(0),
  /** connections in conntrack: established (active) and any other state (inactive) */
  active: z.number().int().min(0),
  inactive: z.number().int().min(0),
  bytesInPerSecond: z.number().min(0).optional(),
  bytesOutPerSecond: z.number().min(0).optional(),
});
export type RealServerTraffic = z.infer<typeof zRealServerTraffic>;

/** Traffic added up (a service's totals over its real servers, or over gateways), to a tenth. */
export function sumTraffic(list: readonly RealServerTraffic[]): RealServerTraffic {
  const total: RealServerTraffic = {
    connections: 0,
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectionsPerSecond: 0,
    packetsInPerSecond: 0,
    packetsOutPerSecond: 0,
    active: 0,
    inactive: 0,
    bytesInPerSecond: 0,
    bytesOutPerSecond: 0,
  };
  for (const t of list) {
    for (const k of Object.keys(total) as Array<keyof RealServerTraffic>) {
      total[k] = Math.round(((total[k] ?? 0) + (t[k] ?? 0)) * 10) / 10;
    }
  }
  return total;
}

export const zRealServerStatus = z.object({
  address: zIPv4,
  port: zPort.nullable(),
  /** unchecked: the service has no health check */
  health: z.enum(["up", "down", "unchecked"]),
  /** when the health last changed (ISO time), null when it never changed */
  since: z.string().max(40).nullable(),
  /** why the last check failed, empty when it passed */
  lastError: z.string().max(200),
  traffic: zRealServerTraffic.optional(),
});
export type RealServerStatus = z.infer<typeof zRealServerStatus>;

export const zVirtualServiceStatus = z.object({
  serviceId: zId,
  realServers: z.array(zRealServerStatus).max(64),
  /** the sum over its real servers */
  traffic: zRealServerTraffic.optional(),
});
export type VirtualServiceStatus = z.infer<typeof zVirtualServiceStatus>;

/**
 * What the virtual services may take of a status report (whose body is capped at MAX_BODY_BYTES
 * in agent-api.ts, beside the health and the facts): the agent leaves out per-server traffic,
 * then service totals, then services, until the list fits (agent/vs/traffic.ts, fitStatus).
 */
export const MAX_VIRTUAL_SERVICES_STATUS_BYTES = 128 * 1024;

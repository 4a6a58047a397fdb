import type { AlertFacts, GatewayFacts } from "../../../core/alerts/incidents";
import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import type { Db } from "../../db";
import { listHaIncidents } from "../gateways/ha";
import { openPoolUsageIncidents } from "../pool-usage/list";

/**
 * Gathers what the incident detectors look at, from what the console already stores: each
 * gateway's last-seen time, last apply result and last link health; the operator failover state;
 * the cluster's open HA incidents. Null when the cluster is gone.
 */

function linkStates(healthText: string): GatewayFacts["isps"] {
  const out: GatewayFacts["isps"] = {};
  try {
    const h = JSON.parse(healthText) as { isps?: Record<string, unknown> };
    for (const [ispId, v] of Object.entries(h.isps ?? {})) {
      if (typeof v !== "object" || v === null) continue;
      const i = v as { state?: unknown; reason?: unknown; failover?: { backupIspId?: unknown } | null };
      out[ispId] = {
        state: typeof i.state === "string" ? i.state : "unknown",
        reason: typeof i.reason === "string" ? i.reason : "",
        failoverTo: typeof i.failover?.backupIspId === "string" ? i.failover.backupIspId : null,
      };
    }
  } catch {
    // a health column that does not parse says nothing about links
  }
  return out;
}

/**
 * `watchingSince`: when this console started listening to agents. A gateway that has not reported
 * counts as offline only once the console itself has listened for the whole offline time: a
 * console that was down a while must not call every gateway offline the moment it starts.
 */
export async function gatherAlertFacts(
  db: Db,
  clusterId: string,
  now: Date,
  watchingSince: Date = new Date(0),
): Promise<AlertFacts | null> {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (cluster === null) return null;
  const [gateways, isps, failovers, haIncidents] = await Promise.all([
    db.gateway.findMany({
      // a gateway without an agent token (awaiting enrollment, revoked) has no agent to hear from
      where: { clusterId, tokenHash: { not: null } },
      select: { id: true, name: true, lastSeenAt: true, lastApplyOk: true, lastApplyError: true, health: true },
      orderBy: { name: "asc" },
    }),
    db.isp.findMany({ where: { clusterId }, select: { id: true, name: true }, orderBy: { seq: "asc" } }),
    db.failoverState.findMany({
      where: { clusterId, adminState: "failed_over" },
      select: { ispId: true, backupIspId: true },
    }),
    listHaIncidents(db, clusterId),
  ]);
  const usage = await openPoolUsageIncidents(db, clusterId, now);
  const failedOver = new Map(failovers.map((f) => [f.ispId, f.backupIspId]));
  const offlineMs = OFFLINE_AFTER_SECONDS * 1000;
  const listenedLongEnough = now.getTime() - watchingSince.getTime() >= offlineMs;
  const onlineOf = (seen: Date | null): boolean | null => {
    if (seen === null) return null;
    if (now.getTime() - seen.getTime() <= offlineMs) return true;
    return listenedLongEnough ? false : null;
  };
  return {
    gateways: gateways.map((g) => ({
      id: g.id,
      name: g.name,
      online: onlineOf(g.lastSeenAt),
      lastApplyOk: g.lastApplyOk,
      lastApplyError: g.lastApplyError,
      isps: linkStates(g.health),
    })),
    isps: isps.map((i) => ({ id: i.id, name: i.name, failedOverTo: failedOver.get(i.id) ?? null })),
    haIncidents: haIncidents.map(({ key, kind, group, gatewayIds }) => ({ key, kind, group, gatewayIds })),
    poolUsage: usage.map(({ key, level, gatewayName, poolName, address, text }) => ({
      key,
      level,
      gatewayName,
      poolName,
      address,
      text,
    })),
  };
}

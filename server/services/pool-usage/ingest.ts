import { decidePoolUsageIncidents, addressFillPct } from "../../../core/health/port-usage";
import type { HealthReport, PoolUsageReport } from "../../../core/protocol/health-report";
import type { Db, Tx } from "../../db";
import { invalid } from "../../errors";
import { recordAudit, SYSTEM_ACTOR, SYSTEM_META } from "../audit/record";
import { incidentEvents, parseIncidents, type PoolUsageIncidentEvent } from "./incidents";

/**
 * Records the pool usage a health report carries: the gateway's latest count (for the Pools
 * page), one chart sample per new count (older ones pruned in the same transaction), and the
 * pool usage incidents it opens or resolves, each in the audit log once.
 */

/** Usage samples older than this are deleted: the charts show the last hour, the forecast 30 min. */
export const USAGE_RETENTION_MS = 2 * 60 * 60_000;

/** One sample row's data: [poolId, address, fill percent, connections] per pool address. */
export type UsageSampleData = Array<[string, string, number, number]>;

export function usageSampleOf(usage: PoolUsageReport): UsageSampleData {
  return usage.addresses.map((a) => [
    a.poolId,
    a.address,
    Math.round(addressFillPct(a) * 10) / 10,
    a.tcp + a.udp + a.other,
  ]);
}

/**
 * Refuses pool usage that names a pool outside the gateway's cluster, or one address twice,
 * before anything is written. A pool the draft has deleted since still counts while a revision
 * names it (a gateway may run that revision).
 */
export async function checkReportedPools(db: Db, clusterId: string, report: HealthReport): Promise<void> {
  const addresses = report.poolUsage?.addresses ?? [];
  if (addresses.length === 0) return;
  const seen = new Set<string>();
  addresses.forEach((a, n) => {
    const key = `${a.poolId} ${a.address}`;
    if (seen.has(key)) {
      const path = ["poolUsage", "addresses", n, "address"];
      const message = `${path.join(".")}: address ${a.address} of pool "${a.poolId}" is reported twice`;
      throw invalid(message, [{ path, message }]);
    }
    seen.add(key);
  });
  const ids = [...new Set(addresses.map((a) => a.poolId))];
  const rows = await db.pool.findMany({ where: { id: { in: ids }, clusterId }, select: { id: true } });
  const ours = new Set(rows.map((r) => r.id));
  for (const id of ids) {
    if (ours.has(id)) continue;
    const inRevision = await db.revision.findFirst({
      where: { clusterId, policy: { contains: JSON.stringify(id) } },
      select: { number: true },
    });
    if (inRevision !== null) {
      ours.add(id);
      continue;
    }
    const n = addresses.findIndex((a) => a.poolId === id);
    const path = ["poolUsage", "addresses", n, "poolId"];
    const message = `${path.join(".")}: pool "${id}" is not a pool of this gateway's cluster`;
    throw invalid(message, [{ path, message }]);
  }
}

/** Runs inside the health report's transaction; returns the incident events to emit once it commits. */
export async function recordPoolUsage(
  tx: Tx,
  gw: { id: string; name: string; clusterId: string },
  usage: PoolUsageReport,
  now: Date,
): Promise<PoolUsageIncidentEvent[]> {
  const row = await tx.gateway.findUniqueOrThrow({
    where: { id: gw.id },
    select: { poolUsage: true, usageIncidents: true },
  });
  const previousAt = (() => {
    try {
      return (JSON.parse(row.poolUsage) as { at?: unknown }).at;
    } catch {
      return undefined;
    }
  })();
  // the agent sends its last count with every report: one sample per count
  if (previousAt === usage.at) return [];
  await tx.gateway.update({
    where: { id: gw.id },
    data: { poolUsage: JSON.stringify({ ...usage, receivedAt: now.toISOString() }) },
    select: { id: true },
  });
  await tx.usageSample.create({
    data: { clusterId: gw.clusterId, gatewayId: gw.id, at: now, data: JSON.stringify(usageSampleOf(usage)) },
    select: { id: true },
  });
  await tx.usageSample.deleteMany({
    where: { gatewayId: gw.id, at: { lt: new Date(now.getTime() - USAGE_RETENTION_MS) } },
  });
  const change = decidePoolUsageIncidents(gw.id, parseIncidents(row.usageIncidents), usage.addresses);
  if (change.opened.length === 0 && change.resolved.length === 0) return [];
  const { count } = await tx.gateway.updateMany({
    where: { id: gw.id, usageIncidents: row.usageIncidents },
    data: { usageIncidents: JSON.stringify(change.open) },
  });
  // a concurrent report recorded the same change
  if (count === 0) return [];
  const poolIds = [...new Set([...change.opened, ...change.resolved].map((i) => i.poolId))];
  const pools = await tx.pool.findMany({ where: { id: { in: poolIds } }, select: { id: true, name: true } });
  const names = new Map(pools.map((p) => [p.id, p.name]));
  const events = incidentEvents(change, {
    clusterId: gw.clusterId,
    gatewayName: gw.name,
    poolName: (id) => names.get(id) ?? id,
    at: now,
  });
  for (const e of events) {
    const recorded = { ...e.incident, gateway: e.gatewayName, pool: e.poolName, text: e.text };
    await recordAudit(tx, {
      actor: SYSTEM_ACTOR,
      meta: SYSTEM_META,
      action: e.state === "opened" ? "pool.usage_incident" : "pool.usage_incident_resolved",
      clusterId: gw.clusterId,
      targetType: "pool",
      targetId: e.incident.poolId,
      ...(e.state === "opened"
        ? { after: { ...recorded, state: "open" } }
        : { before: { ...recorded, state: "open" }, after: { ...recorded, state: "resolved" } }),
    });
  }
  return events;
}

import type { Db } from "../../db";
import { RESOLUTIONS } from "../../../core/health/rollup";
import { notFound } from "../../errors";

/** A cluster's recent incidents, newest first, with what was sent for each to which channel. */
export async function listIncidents(db: Db, clusterId: string, limit = 50) {
  const c = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (c === null) throw notFound("The cluster");
  const rows = await db.alertIncident.findMany({
    where: { clusterId },
    orderBy: { openedAt: "desc" },
    take: limit,
    select: {
      id: true,
      key: true,
      kind: true,
      severity: true,
      subject: true,
      detail: true,
      openedAt: true,
      resolvedAt: true,
      deliveries: {
        select: {
          phase: true,
          state: true,
          attempts: true,
          lastError: true,
          sentAt: true,
          channel: { select: { name: true } },
        },
        orderBy: { createdAt: "asc" },
      },
    },
  });
  return rows.map(({ deliveries, ...i }) => ({
    ...i,
    open: i.resolvedAt === null,
    deliveries: deliveries.map(({ channel, ...d }) => ({ ...d, channel: channel.name })),
  }));
}

/**
 * Incidents are kept as long as the longest health history (the hourly rollups, 90 days): the
 * audit log keeps every alert's opening and resolution for as long as audit retention says.
 */
export const INCIDENT_KEEP_MS = RESOLUTIONS.hour.keepMs;

/**
 * Deletes the incidents resolved before `now - keepMs` with their messages, except those with a
 * message still to send (a channel that has been failing for months keeps its incident until its
 * last retry ends). Open incidents are never pruned. Returns how many went.
 */
export async function pruneIncidents(db: Db, now: Date, keepMs = INCIDENT_KEEP_MS): Promise<number> {
  const r = await db.alertIncident.deleteMany({
    where: {
      resolvedAt: { lt: new Date(now.getTime() - keepMs) },
      deliveries: { none: { state: { in: ["pending", "sending"] } } },
    },
  });
  return r.count;
}

import type { Db } from "../../db";
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

import { z } from "zod";
import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { type VirtualServiceStatus, zVirtualServiceStatus } from "../../../core/protocol/virtual-service-status";
import type { Db } from "../../db";
import { getClusterOrThrow } from "../clusters/clusters";

/**
 * What each gateway of a cluster last reported about its virtual services: every real server's
 * health and traffic as its agent sees them (kept with the gateway's facts by the status report).
 */

export interface GatewayVirtualServices {
  gatewayId: string;
  gatewayName: string;
  online: boolean;
  /** when the report arrived; null: never */
  reportedAt: string | null;
  services: VirtualServiceStatus[];
}

const zStored = z.object({ virtualServices: z.array(zVirtualServiceStatus).catch([]).default([]) });

function storedStatus(facts: string): VirtualServiceStatus[] {
  try {
    const parsed = zStored.safeParse(JSON.parse(facts));
    return parsed.success ? parsed.data.virtualServices : [];
  } catch {
    return [];
  }
}

export async function virtualServiceStatus(
  db: Db,
  clusterId: string,
  now = new Date(),
): Promise<GatewayVirtualServices[]> {
  await getClusterOrThrow(db, clusterId);
  const rows = await db.gateway.findMany({
    where: { clusterId },
    orderBy: { name: "asc" },
    select: { id: true, name: true, lastSeenAt: true, facts: true },
  });
  return rows.map((g) => ({
    gatewayId: g.id,
    gatewayName: g.name,
    online: g.lastSeenAt !== null && now.getTime() - g.lastSeenAt.getTime() <= OFFLINE_AFTER_SECONDS * 1000,
    reportedAt: g.lastSeenAt?.toISOString() ?? null,
    services: storedStatus(g.facts),
  }));
}

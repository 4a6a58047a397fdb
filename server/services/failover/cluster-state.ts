import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { type IspHealth, zIspHealth } from "../../../core/protocol/health-report";
import type { Db, Tx } from "../../db";
import type { Policy } from "../../../core/policy/model";
import { getClusterOrThrow } from "../clusters/clusters";
import { loadRevisionPolicy } from "../draft/revisions";

/**
 * Everything the failover pages and actions need about one cluster, read once: its published
 * policy (what gateways run), the operators' failover state, and each gateway with the link
 * health it last reported.
 */

export interface GatewayHealthView {
  id: string;
  name: string;
  online: boolean;
  lastSeenAt: Date | null;
  appliedRevision: number | null;
  appliedEpoch: number | null;
  /** per ISP id, as the gateway last reported it */
  isps: Record<string, IspHealth>;
  reportedAt: Date | null;
  conntrackTotal: number | null;
}

export interface FailoverRow {
  ispId: string;
  adminState: "active" | "failed_over";
  backupIspId: string | null;
  changedBy: string;
  changedAt: Date;
  restoredEpoch: number;
}

export interface ClusterFailoverView {
  cluster: { id: string; name: string; publishedRevision: number; failoverEpoch: number };
  policy: Policy;
  failover: Map<string, FailoverRow>;
  gateways: GatewayHealthView[];
}

export function parseGatewayHealth(text: string): Pick<GatewayHealthView, "isps" | "reportedAt" | "conntrackTotal"> {
  const empty = { isps: {}, reportedAt: null, conntrackTotal: null };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return empty;
  }
  if (typeof raw !== "object" || raw === null) return empty;
  const r = raw as { isps?: unknown; receivedAt?: unknown; at?: unknown; conntrackTotal?: unknown };
  const isps: Record<string, IspHealth> = {};
  if (typeof r.isps === "object" && r.isps !== null) {
    for (const [id, v] of Object.entries(r.isps)) {
      const parsed = zIspHealth.safeParse(v);
      if (parsed.success) isps[id] = parsed.data;
    }
  }
  const when = typeof r.receivedAt === "string" ? r.receivedAt : typeof r.at === "string" ? r.at : null;
  const reportedAt = when === null ? null : new Date(when);
  return {
    isps,
    reportedAt: reportedAt !== null && !Number.isNaN(reportedAt.getTime()) ? reportedAt : null,
    conntrackTotal: typeof r.conntrackTotal === "number" ? r.conntrackTotal : null,
  };
}

export const isOnline = (g: { tokenHash: string | null; lastSeenAt: Date | null }, now: Date) =>
  g.tokenHash !== null &&
  g.lastSeenAt !== null &&
  now.getTime() - g.lastSeenAt.getTime() <= OFFLINE_AFTER_SECONDS * 1000;

export async function loadClusterFailover(
  db: Db | Tx,
  clusterId: string,
  now = new Date(),
): Promise<ClusterFailoverView> {
  await getClusterOrThrow(db, clusterId);
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: { id: true, name: true, publishedRevision: true, failoverEpoch: true },
  });
  const [policy, rows, gateways] = await Promise.all([
    loadRevisionPolicy(db, clusterId, cluster.publishedRevision),
    db.failoverState.findMany({
      where: { clusterId },
      select: {
        ispId: true,
        adminState: true,
        backupIspId: true,
        changedBy: true,
        changedAt: true,
        restoredEpoch: true,
      },
    }),
    db.gateway.findMany({
      where: { clusterId },
      orderBy: { name: "asc" },
      select: {
        id: true,
        name: true,
        tokenHash: true,
        lastSeenAt: true,
        appliedRevision: true,
        appliedEpoch: true,
        health: true,
      },
    }),
  ]);
  return {
    cluster,
    policy,
    failover: new Map(
      rows.map((r) => [
        r.ispId,
        { ...r, adminState: r.adminState === "failed_over" ? ("failed_over" as const) : ("active" as const) },
      ]),
    ),
    gateways: gateways
      .filter((g) => g.tokenHash !== null)
      .map((g) => ({
        id: g.id,
        name: g.name,
        online: isOnline(g, now),
        lastSeenAt: g.lastSeenAt,
        appliedRevision: g.appliedRevision,
        appliedEpoch: g.appliedEpoch,
        ...parseGatewayHealth(g.health),
      })),
  };
}

import type { LinkState } from "../../../core/health/link-state";
import type { Db } from "../../db";
import type { Monitor } from "../../../core/policy/model";
import { type ClusterFailoverView, loadClusterFailover } from "./cluster-state";
import { failedOverAnywhere } from "./impact";
import { listOperations, type OperationSummary } from "./progress";

/**
 * The health page's model of a cluster: one card per ISP of the published revision with its
 * state on every gateway, the operators' failover state, recent operations with each gateway's
 * progress, and the latest failover events from the audit log.
 */

export interface GatewayIspView {
  gatewayId: string;
  gatewayName: string;
  online: boolean;
  state: LinkState | null;
  since: string | null;
  reason: string;
  lossPct: number | null;
  rttMs: number | null;
  /** the ISP's traffic leaves through this backup on this gateway */
  via: { ispId: string; name: string; mode: "admin" | "automatic" } | null;
  held: boolean;
  alert: string;
  connections: number | null;
  proberError: string;
  /** on-link pool addresses the ISP router asks for (ARP) and this gateway does not answer */
  unansweredArp: string[];
  /** a DHCP or PPPoE uplink: the address and next hop this gateway's client has (as last reported) */
  learned: { address: string | null; nextHop: string | null; at: string } | null;
  reportedAt: Date | null;
}

export interface IspCard {
  id: string;
  name: string;
  interface: string;
  nextHop: string;
  probeTargets: string[];
  monitor: Monitor;
  failoverMode: "manual" | "automatic";
  failbackMode: "manual" | "automatic";
  flushOnFailback: boolean;
  backups: Array<{ id: string; name: string }>;
  admin: { state: "active" | "failed_over"; backupIspId: string | null; changedBy: string; changedAt: Date | null };
  failedOverAnywhere: boolean;
  gateways: GatewayIspView[];
  counts: Record<LinkState, number>;
  connections: number | null;
}

export interface FailoverEventView {
  seq: number;
  at: Date;
  action: string;
  actorType: string;
  actorName: string;
  ispId: string;
  details: Record<string, unknown>;
}

export interface HealthOverview {
  cluster: ClusterFailoverView["cluster"];
  isps: IspCard[];
  gateways: Array<{
    id: string;
    name: string;
    online: boolean;
    appliedRevision: number | null;
    appliedEpoch: number | null;
    reportedAt: Date | null;
  }>;
  operations: OperationSummary[];
  events: FailoverEventView[];
  generatedAt: Date;
}

export const FAILOVER_ACTIONS = [
  "isp.failover",
  "isp.failback",
  "isp.restore",
  "isp.alert",
  "isp.alert_cleared",
  "isp.failover_applied",
  "isp.restore_applied",
];

export function ispCards(view: ClusterFailoverView): IspCard[] {
  const names = new Map(view.policy.isps.map((i) => [i.id, i.name]));
  return [...view.policy.isps]
    .sort((a, b) => a.index - b.index)
    .map((isp) => {
      const row = view.failover.get(isp.id);
      const counts: Record<LinkState, number> = { up: 0, degraded: 0, down: 0, unknown: 0 };
      let connections: number | null = null;
      const gateways = view.gateways.map((g): GatewayIspView => {
        const h = g.isps[isp.id];
        if (g.online) counts[h?.state ?? "unknown"]++;
        if (g.online && typeof h?.connections === "number") connections = (connections ?? 0) + h.connections;
        return {
          gatewayId: g.id,
          gatewayName: g.name,
          online: g.online,
          state: h?.state ?? null,
          since: h?.since ?? null,
          reason: h?.reason ?? "",
          lossPct: h?.lossPct ?? null,
          rttMs: h?.rttMs ?? null,
          via:
            h?.failover == null
              ? null
              : {
                  ispId: h.failover.backupIspId,
                  name: names.get(h.failover.backupIspId) ?? h.failover.backupIspId,
                  mode: h.failover.mode,
                },
          held: h?.held ?? false,
          alert: h?.alert ?? "",
          connections: h?.connections ?? null,
          proberError: h?.proberError ?? "",
          unansweredArp: g.online ? (h?.unansweredArp ?? []) : [],
          learned: h?.learned ?? null,
          reportedAt: g.reportedAt,
        };
      });
      return {
        id: isp.id,
        name: isp.name,
        interface: isp.interface,
        nextHop: isp.nextHop,
        probeTargets: isp.probeTargets.length > 0 ? isp.probeTargets : [isp.nextHop],
        monitor: isp.monitor,
        failoverMode: isp.failoverMode,
        failbackMode: isp.failbackMode,
        flushOnFailback: isp.flushOnFailback,
        backups: isp.backupIspIds.map((id) => ({ id, name: names.get(id) ?? id })),
        admin: {
          state: row?.adminState ?? "active",
          backupIspId: row?.backupIspId ?? null,
          changedBy: row?.changedBy ?? "",
          changedAt: row?.changedAt ?? null,
        },
        failedOverAnywhere: failedOverAnywhere(view, isp.id),
        gateways,
        counts,
        connections,
      };
    });
}

function details(after: string | null): Record<string, unknown> {
  if (after === null) return {};
  try {
    const v: unknown = JSON.parse(after);
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function recentFailoverEvents(db: Db, clusterId: string, limit = 20): Promise<FailoverEventView[]> {
  const rows = await db.auditEvent.findMany({
    where: { clusterId, action: { in: FAILOVER_ACTIONS } },
    orderBy: { seq: "desc" },
    take: limit,
    select: { seq: true, at: true, action: true, actorType: true, actorName: true, targetId: true, after: true },
  });
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    action: r.action,
    actorType: r.actorType,
    actorName: r.actorName,
    ispId: r.targetId,
    details: details(r.after),
  }));
}

export async function healthOverview(db: Db, clusterId: string, now = new Date()): Promise<HealthOverview> {
  const view = await loadClusterFailover(db, clusterId, now);
  const [operations, events] = await Promise.all([
    listOperations(db, clusterId, 5),
    recentFailoverEvents(db, clusterId),
  ]);
  return {
    cluster: view.cluster,
    isps: ispCards(view),
    gateways: view.gateways.map((g) => ({
      id: g.id,
      name: g.name,
      online: g.online,
      appliedRevision: g.appliedRevision,
      appliedEpoch: g.appliedEpoch,
      reportedAt: g.reportedAt,
    })),
    operations,
    events,
    generatedAt: now,
  };
}

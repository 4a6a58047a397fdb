import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict } from "../../errors";
import { type HaStatus, OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { type HaIncident, detectHaIncidents, newTransitions } from "../../../core/health/ha-incidents";
import type { ClusterGateway } from "../../../core/policy/ha";
import { describeDrainEffect, drainEffect } from "../../../core/policy/drain-effect";
import { poolAddresses } from "../../../core/policy/compile";
import { zId } from "../../../core/policy/model";
import { type Actor, type RequestMeta, recordAudit, SYSTEM_ACTOR } from "../audit/record";
import { loadRevisionPolicy } from "../draft/revisions";
import { notifyClusterChanged } from "../cluster-changes/notifier";
import { getGatewayOrThrow } from "./gateways";
import { parseHaStatus } from "./ha-report";

/**
 * High availability as the console sees it: the VRRP state each agent reports, its transitions
 * in the audit log, incidents (split brain, no healthy backup) recorded once when they start and
 * once when they end, and draining a gateway so its peers hold its addresses.
 */

/** The cluster's gateways as compile sees them: id, name and drained flag. */
export async function loadClusterGateways(db: Db | Tx, clusterId: string): Promise<ClusterGateway[]> {
  return db.gateway.findMany({
    where: { clusterId },
    select: { id: true, name: true, drained: true },
    orderBy: { name: "asc" },
  });
}

const zIncidents = z.array(
  z.object({
    key: z.string(),
    kind: z.enum(["split_brain", "no_healthy_backup"]),
    group: z.string(),
    gatewayIds: z.array(z.string()),
  }),
);

function parseIncidents(text: string): HaIncident[] {
  try {
    const r = zIncidents.safeParse(JSON.parse(text));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

/**
 * Stores one gateway's HA report and audits the transitions it has not reported before (the
 * agent resends its last 50 each time). Runs inside the status report's transaction.
 */
export async function recordHaReport(
  tx: Tx,
  gw: { id: string; clusterId: string },
  actor: Actor,
  meta: RequestMeta,
  ha: HaStatus,
  previousText: string | null,
): Promise<void> {
  const previous = parseHaStatus(previousText);
  await tx.gateway.update({ where: { id: gw.id }, data: { haStatus: JSON.stringify(ha) }, select: { id: true } });
  for (const t of newTransitions(previous?.transitions ?? [], ha.transitions)) {
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.vrrp_transition",
      clusterId: gw.clusterId,
      targetType: "gateway",
      targetId: gw.id,
      before: { state: t.from },
      after: { group: t.group, from: t.from, to: t.to, at: t.at, commitMs: t.commitMs, error: t.error },
    });
  }
}

/**
 * Decides the cluster's incidents from its gateways' last reports and records each change: an
 * incident that starts, and one that ends. The open incidents are kept on the cluster; a
 * concurrent report that already recorded the same change makes this one a no-op.
 */
export async function evaluateHaIncidents(tx: Tx, clusterId: string, now: Date): Promise<HaIncident[]> {
  const cluster = await tx.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: { haIncidents: true, settings: true },
  });
  const mode = (JSON.parse(cluster.settings) as { ha?: { mode?: string } }).ha?.mode ?? "none";
  const rows = await tx.gateway.findMany({
    where: { clusterId },
    select: { id: true, name: true, haStatus: true, lastSeenAt: true },
  });
  const fresh = (seen: Date | null) => seen !== null && now.getTime() - seen.getTime() <= OFFLINE_AFTER_SECONDS * 1000;
  const current =
    mode === "none"
      ? []
      : detectHaIncidents(
          rows.map((r) => ({ id: r.id, name: r.name, ha: fresh(r.lastSeenAt) ? parseHaStatus(r.haStatus) : null })),
        );
  const open = parseIncidents(cluster.haIncidents);
  const openKeys = new Set(open.map((i) => i.key));
  const currentKeys = new Set(current.map((i) => i.key));
  const started = current.filter((i) => !openKeys.has(i.key));
  const ended = open.filter((i) => !currentKeys.has(i.key));
  if (started.length === 0 && ended.length === 0) return current;
  const { count } = await tx.cluster.updateMany({
    where: { id: clusterId, haIncidents: cluster.haIncidents },
    data: { haIncidents: JSON.stringify(current) },
  });
  if (count === 0) return current;
  const names = new Map(rows.map((r) => [r.id, r.name]));
  const named = (i: HaIncident) => ({ ...i, gateways: i.gatewayIds.map((id) => names.get(id) ?? id) });
  for (const i of started) {
    await recordAudit(tx, {
      actor: SYSTEM_ACTOR,
      meta: { ip: "", userAgent: "", requestId: "" },
      action: "cluster.ha_incident",
      clusterId,
      targetType: "cluster",
      targetId: clusterId,
      after: { ...named(i), state: "open" },
    });
  }
  for (const i of ended) {
    await recordAudit(tx, {
      actor: SYSTEM_ACTOR,
      meta: { ip: "", userAgent: "", requestId: "" },
      action: "cluster.ha_incident_resolved",
      clusterId,
      targetType: "cluster",
      targetId: clusterId,
      before: { ...named(i), state: "open" },
      after: { ...named(i), state: "resolved" },
    });
  }
  return current;
}

/** The open incidents of a cluster, for the banner, with the names of the gateways they are about. */
export async function listHaIncidents(db: Db, clusterId: string) {
  const c = await db.cluster.findUnique({ where: { id: clusterId }, select: { haIncidents: true } });
  const incidents = c === null ? [] : parseIncidents(c.haIncidents);
  if (incidents.length === 0) return [];
  const rows = await db.gateway.findMany({ where: { clusterId }, select: { id: true, name: true } });
  const names = new Map(rows.map((r) => [r.id, r.name]));
  return incidents.map((i) => ({ ...i, gatewayNames: i.gatewayIds.map((id) => names.get(id) ?? id) }));
}

export const zDrainInput = z.object({
  gatewayId: zId,
  /** true: drain it; false: return it to service */
  drain: z.boolean(),
});
export type DrainInput = z.infer<typeof zDrainInput>;

/** What draining (or returning) a gateway moves, per VRRP group, in words and as data. */
export async function drainPreview(db: Db | Tx, input: DrainInput) {
  const gw = await getGatewayOrThrow(db, input.gatewayId);
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: gw.clusterId },
    select: { publishedRevision: true, failoverEpoch: true },
  });
  const gateways = await loadClusterGateways(db, gw.clusterId);
  const current = gateways.find((g) => g.id === gw.id);
  const policy = await loadRevisionPolicy(db, gw.clusterId, cluster.publishedRevision);
  const { ha } = policy.settings;
  const rows = await db.gateway.findMany({ where: { clusterId: gw.clusterId }, select: { id: true, haStatus: true } });
  const masters = new Map<string, string>();
  for (const r of rows) {
    for (const g of parseHaStatus(r.haStatus)?.groups ?? []) if (g.state === "master") masters.set(g.name, r.id);
  }
  let moves: ReturnType<typeof drainEffect> = [];
  try {
    moves = drainEffect({
      policy,
      gateways,
      gatewayId: gw.id,
      drain: input.drain,
      masters,
      addressesOf: poolAddresses,
    });
  } catch {
    // a published revision always compiles; a gateway added since may lack settings: no preview then
    moves = [];
  }
  const nameOf = (id: string) => gateways.find((g) => g.id === id)?.name ?? id;
  return {
    gatewayId: gw.id,
    gatewayName: gw.name,
    drained: current?.drained ?? false,
    mode: ha.mode,
    failoverEpoch: cluster.failoverEpoch,
    moves,
    effect:
      ha.mode === "none"
        ? [`The published revision has no high availability: draining "${gw.name}" changes nothing on the gateways.`]
        : describeDrainEffect(moves, nameOf, { drain: input.drain, gatewayName: gw.name, preempt: ha.preempt }),
  };
}

/**
 * Drains a gateway or returns it to service: its drained flag, a new failover epoch (so every
 * agent of the cluster gets a spec with the new priorities), and an audit event naming the effect.
 */
export async function setGatewayDrained(db: Db, actor: Actor, meta: RequestMeta, input: DrainInput) {
  const result = await db.$transaction(async (tx) => {
    const gw = await getGatewayOrThrow(tx, input.gatewayId);
    const before = await tx.gateway.findUniqueOrThrow({ where: { id: gw.id }, select: { drained: true } });
    if (before.drained === input.drain) {
      throw conflict(
        input.drain ? `Gateway "${gw.name}" is already drained` : `Gateway "${gw.name}" is already in service`,
      );
    }
    const preview = await drainPreview(tx, input);
    const bumped = await tx.cluster.updateMany({
      where: { id: gw.clusterId, failoverEpoch: preview.failoverEpoch },
      data: { failoverEpoch: { increment: 1 } },
    });
    if (bumped.count === 0) throw conflict("Someone changed this cluster's failover state a moment ago; try again");
    await tx.gateway.update({ where: { id: gw.id }, data: { drained: input.drain }, select: { id: true } });
    await recordAudit(tx, {
      actor,
      meta,
      action: input.drain ? "gateway.drain" : "gateway.return_to_service",
      clusterId: gw.clusterId,
      targetType: "gateway",
      targetId: gw.id,
      before: { drained: before.drained },
      after: {
        drained: input.drain,
        failoverEpoch: preview.failoverEpoch + 1,
        effect: preview.effect,
        moves: preview.moves,
      },
    });
    return { clusterId: gw.clusterId, failoverEpoch: preview.failoverEpoch + 1, effect: preview.effect };
  });
  // only once committed: a woken agent must find the new epoch
  notifyClusterChanged(result.clusterId);
  return result;
}

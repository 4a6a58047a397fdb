import { type AlertIncident, detectIncidents, incidentChanges } from "../../../core/alerts/incidents";
import type { Db } from "../../db";
import { isUniqueViolation } from "../../errors";
import { recordAudit, SYSTEM_ACTOR, SYSTEM_META } from "../audit/record";
import { evaluateHaIncidents } from "../gateways/ha";
import { gatherAlertFacts } from "./facts";
import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";

/**
 * Decides a cluster's incidents now and records each change once, whichever console replica sees
 * it first: opening an incident is a row whose (cluster, open key) is unique, resolving it clears
 * that key with a conditional update. The same transaction creates the messages to send (one per
 * enabled channel; the resolution goes to the channels that got the opening) and the audit event.
 */

export interface AlertChanges {
  opened: string[];
  resolved: string[];
}

async function openIncident(db: Db, clusterId: string, i: AlertIncident, now: Date): Promise<boolean> {
  try {
    await db.$transaction(async (tx) => {
      const row = await tx.alertIncident.create({
        data: {
          clusterId,
          key: i.key,
          kind: i.kind,
          severity: i.severity,
          subject: i.subject,
          detail: i.detail,
          openKey: i.key,
          openedAt: now,
        },
        select: { id: true },
      });
      const channels = await tx.alertChannel.findMany({
        where: { clusterId, enabled: true },
        select: { id: true, name: true },
      });
      for (const c of channels) {
        await tx.alertDelivery.create({
          data: { incidentId: row.id, channelId: c.id, phase: "open", nextAttemptAt: now },
          select: { id: true },
        });
      }
      await recordAudit(tx, {
        actor: SYSTEM_ACTOR,
        meta: SYSTEM_META,
        action: "alert.incident_open",
        clusterId,
        targetType: "alert_incident",
        targetId: row.id,
        after: {
          key: i.key,
          kind: i.kind,
          severity: i.severity,
          subject: i.subject,
          detail: i.detail,
          channels: channels.map((c) => c.name),
        },
      });
    });
    return true;
  } catch (e) {
    // another replica (or a concurrent run here) opened it first
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

async function resolveIncident(db: Db, clusterId: string, id: string, now: Date): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.alertIncident.updateMany({
      where: { id, openKey: { not: null } },
      data: { openKey: null, resolvedAt: now },
    });
    if (count === 0) return false;
    const incident = await tx.alertIncident.findUniqueOrThrow({
      where: { id },
      select: { key: true, kind: true, subject: true, openedAt: true },
    });
    const opened = await tx.alertDelivery.findMany({
      where: { incidentId: id, phase: "open", channel: { enabled: true } },
      select: { channelId: true, channel: { select: { name: true } } },
    });
    for (const d of opened) {
      await tx.alertDelivery.create({
        data: { incidentId: id, channelId: d.channelId, phase: "resolved", nextAttemptAt: now },
        select: { id: true },
      });
    }
    await recordAudit(tx, {
      actor: SYSTEM_ACTOR,
      meta: SYSTEM_META,
      action: "alert.incident_resolved",
      clusterId,
      targetType: "alert_incident",
      targetId: id,
      before: { state: "open" },
      after: {
        key: incident.key,
        kind: incident.kind,
        subject: incident.subject,
        openedAt: incident.openedAt.toISOString(),
        lastedMs: now.getTime() - incident.openedAt.getTime(),
        channels: opened.map((d) => d.channel.name),
      },
    });
    return true;
  });
}

/**
 * Kinds that depend on how long gateways have been silent. A console that has just started has not
 * heard from anyone yet, so for the offline time it neither opens nor resolves these (otherwise a
 * restart after downtime would send "offline" for every gateway, or "resolved" for ones still down).
 */
const FRESHNESS_KINDS: ReadonlySet<string> = new Set(["gateway_offline", "no_healthy_backup"]);

/** `watchingSince`: when this console started listening to agents (see gatherAlertFacts). */
export async function evaluateAlerts(
  db: Db,
  clusterId: string,
  now = new Date(),
  watchingSince?: Date,
): Promise<AlertChanges> {
  const exists = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (exists === null) return { opened: [], resolved: [] };
  const settling =
    watchingSince !== undefined && now.getTime() - watchingSince.getTime() < OFFLINE_AFTER_SECONDS * 1000;
  // HA incidents are otherwise re-decided only when a gateway reports: a cluster whose gateways all
  // fell silent would keep its last view
  if (!settling) await db.$transaction((tx) => evaluateHaIncidents(tx, clusterId, now));
  const facts = await gatherAlertFacts(db, clusterId, now, watchingSince);
  if (facts === null) return { opened: [], resolved: [] };
  const current = detectIncidents(facts);
  const open = await db.alertIncident.findMany({
    where: { clusterId, openKey: { not: null } },
    select: { id: true, key: true, kind: true },
  });
  const changes = incidentChanges(open, current);
  const decided = (kind: string) => !settling || !FRESHNESS_KINDS.has(kind);
  const out: AlertChanges = { opened: [], resolved: [] };
  for (const i of changes.opened.filter((x) => decided(x.kind))) {
    if (await openIncident(db, clusterId, i, now)) out.opened.push(i.key);
  }
  for (const r of changes.resolved.filter((x) => decided(x.kind))) {
    if (await resolveIncident(db, clusterId, r.id, now)) out.resolved.push(r.key);
  }
  return out;
}

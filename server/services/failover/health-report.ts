import type { FailoverEvent, HealthAck, HealthReport } from "../../../core/protocol/health-report";
import type { Db, Tx } from "../../db";
import { type RequestMeta, recordAudit } from "../audit/record";
import { agentActor, authenticateAgent } from "../gateways/agent-auth";
import { notifyHealthChanged } from "./live";
import { completeDueOperations, recordGatewayProgress } from "./progress";
import type { SampleData } from "../../../core/health/series";

/**
 * Records an agent's health report: the gateway's latest link health, one sample for the charts
 * (older samples of the gateway pruned in the same transaction), its progress on pending
 * operator failovers, and each failover event it carries, as an audit event, exactly once.
 */

/** Samples older than this are deleted; the charts show the last 15 minutes. */
export const SAMPLE_RETENTION_MS = 20 * 60_000;

/** Audit actions of what agents did on their own. Operator failovers are audited when clicked. */
const EVENT_ACTIONS: Record<FailoverEvent["kind"], string> = {
  failover: "isp.failover",
  failback: "isp.failback",
  alert: "isp.alert",
  alert_cleared: "isp.alert_cleared",
};

export function sampleOf(report: HealthReport): SampleData {
  const data: SampleData = {};
  for (const i of report.isps) {
    data[i.ispId] = { s: i.state, l: i.lossPct, r: i.rttMs, f: i.failover?.backupIspId ?? null };
  }
  return data;
}

/** The gateway's latest health as Gateway.health keeps it (the same shape the status report sends). */
export function latestHealth(report: HealthReport, receivedAt: Date) {
  return {
    at: report.at,
    receivedAt: receivedAt.toISOString(),
    isps: Object.fromEntries(report.isps.map((i) => [i.ispId, i])),
    conntrackTotal: report.conntrackTotal,
  };
}

async function recordEvent(
  tx: Tx,
  gw: { id: string; name: string; clusterId: string },
  meta: RequestMeta,
  e: FailoverEvent,
): Promise<void> {
  // the event id rides in requestId: a report resent after a lost answer records nothing twice
  const seen = await tx.auditEvent.findFirst({
    where: { targetType: "isp", targetId: e.ispId, requestId: e.id },
    select: { seq: true },
  });
  if (seen !== null) return;
  // the gateway's part of an operator's failover is tracked by the operation, not one event per gateway
  if (e.mode === "admin" && (e.kind === "failover" || e.kind === "failback") && e.ok) return;
  await recordAudit(tx, {
    actor: agentActor(gw),
    meta: { ...meta, requestId: e.id },
    action: EVENT_ACTIONS[e.kind],
    clusterId: gw.clusterId,
    targetType: "isp",
    targetId: e.ispId,
    after: {
      isp: e.ispName,
      gateway: gw.name,
      mode: e.mode,
      from: e.fromIspId,
      to: e.toIspId,
      reason: e.reason,
      at: e.at,
      revision: e.revision,
      failoverEpoch: e.failoverEpoch,
      timings: e.timings,
      ok: e.ok,
      ...(e.error === "" ? {} : { error: e.error }),
    },
  });
}

export async function recordHealthReport(
  db: Db,
  meta: RequestMeta,
  token: string | null,
  report: HealthReport,
  now = new Date(),
): Promise<HealthAck> {
  const gw = await authenticateAgent(db, token);
  const recorded = await db.$transaction(async (tx) => {
    await tx.gateway.update({
      where: { id: gw.id },
      data: {
        lastSeenAt: now,
        agentVersion: report.agentVersion,
        // the applied revision stays the status report's to set, together with its apply result
        health: JSON.stringify(latestHealth(report, now)),
      },
      select: { id: true },
    });
    await tx.healthSample.create({
      data: { clusterId: gw.clusterId, gatewayId: gw.id, at: now, data: JSON.stringify(sampleOf(report)) },
      select: { id: true },
    });
    await tx.healthSample.deleteMany({
      where: { gatewayId: gw.id, at: { lt: new Date(now.getTime() - SAMPLE_RETENTION_MS) } },
    });
    const ids: string[] = [];
    for (const e of report.events) {
      await recordEvent(tx, gw, meta, e);
      ids.push(e.id);
    }
    if (report.running !== null) await recordGatewayProgress(tx, gw, report, now);
    return ids;
  });
  await completeDueOperations(db, gw.clusterId, now);
  notifyHealthChanged(gw.clusterId);
  return { ok: true, recorded };
}

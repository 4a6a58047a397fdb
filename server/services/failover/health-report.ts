import {
  type FailoverEvent,
  type HealthAck,
  type HealthReport,
  type HealthSampleIsp,
  sampleIspOf,
} from "../../../core/protocol/health-report";
import type { Db, Tx } from "../../db";
import { invalid } from "../../errors";
import { type RequestMeta, recordAudit } from "../audit/record";
import { agentActor, authenticateAgent } from "../gateways/agent-auth";
import { notifyHealthChanged } from "./live";
import { agentReported } from "../cluster-changes/agent-reports";
import { completeDueOperations, recordGatewayProgress } from "./progress";
import { foldIntoRollups } from "./rollups";
import { logger } from "../../log";
import type { SampleData } from "../../../core/health/series";
import { checkReportedPools, recordPoolUsage } from "../pool-usage/ingest";
import { emitPoolUsageIncidents, type PoolUsageIncidentEvent } from "../pool-usage/incidents";

/**
 * Records an agent's health report: the gateway's latest link health, the samples for the charts
 * (the ones the agent took each second since its last report and the report's own; older samples
 * of the gateway pruned in the same transaction) also folded into the minute and hour rollups of
 * the longer history, its progress on pending operator failovers, and each failover event it
 * carries, as an audit event, exactly once.
 */

/** Samples older than this are deleted; the charts read the rollups beyond the last 20 minutes. */
export const SAMPLE_RETENTION_MS = 20 * 60_000;

/** Audit actions of what agents did on their own. Operator failovers are audited when clicked. */
const EVENT_ACTIONS: Record<FailoverEvent["kind"], string> = {
  failover: "isp.failover",
  failback: "isp.failback",
  alert: "isp.alert",
  alert_cleared: "isp.alert_cleared",
};

function sampleData(isps: readonly HealthSampleIsp[]): SampleData {
  const data: SampleData = {};
  for (const i of isps) data[i.ispId] = { s: i.state, l: i.lossPct, r: i.rttMs, f: i.backupIspId, c: i.connections };
  return data;
}

/**
 * The report's samples with the console's time of each: as far before the report's arrival as the
 * agent took it before the report's own `at` (the two clocks need not agree), oldest first; the
 * report itself is the last. A sample the agent dates after its report is refused, naming it; one
 * older than the history's 20 minutes is left out.
 */
export function samplesOf(report: HealthReport, receivedAt: Date): Array<{ at: Date; data: SampleData }> {
  const reportAt = Date.parse(report.at);
  const out: Array<{ at: Date; data: SampleData }> = [];
  report.samples.forEach((s, n) => {
    const before = reportAt - Date.parse(s.at);
    if (before < 0) {
      const field = `samples.${n}.at`;
      const message = `${field}: a sample cannot be later than its report (${report.at})`;
      throw invalid(message, [{ path: ["samples", n, "at"], message }]);
    }
    if (before === 0 || before >= SAMPLE_RETENTION_MS) return;
    out.push({ at: new Date(receivedAt.getTime() - before), data: sampleData(s.isps) });
  });
  out.sort((a, b) => a.at.getTime() - b.at.getTime());
  out.push({ at: receivedAt, data: sampleData(report.isps.map(sampleIspOf)) });
  return out;
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
  // the event id rides in requestId: a report resent after a lost answer records nothing twice.
  // Only this gateway's own events count: an id is the agent's to choose, so another gateway
  // (of this cluster or any other) must not be able to claim it first.
  const seen = await tx.auditEvent.findFirst({
    where: { actorType: "agent", actorId: gw.id, targetType: "isp", targetId: e.ispId, requestId: e.id },
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

/** Every ISP id a report names, with where it names it. */
function reportedIspIds(report: HealthReport): Array<{ id: string; path: (string | number)[] }> {
  const out: Array<{ id: string; path: (string | number)[] }> = [];
  report.isps.forEach((i, n) => {
    out.push({ id: i.ispId, path: ["isps", n, "ispId"] });
    if (i.failover !== null) out.push({ id: i.failover.backupIspId, path: ["isps", n, "failover", "backupIspId"] });
  });
  report.samples.forEach((s, n) => {
    s.isps.forEach((i, k) => {
      out.push({ id: i.ispId, path: ["samples", n, "isps", k, "ispId"] });
      if (i.backupIspId !== null) out.push({ id: i.backupIspId, path: ["samples", n, "isps", k, "backupIspId"] });
    });
  });
  report.events.forEach((e, n) => {
    out.push({ id: e.ispId, path: ["events", n, "ispId"] });
    if (e.fromIspId !== null) out.push({ id: e.fromIspId, path: ["events", n, "fromIspId"] });
    if (e.toIspId !== null) out.push({ id: e.toIspId, path: ["events", n, "toIspId"] });
  });
  return out;
}

/**
 * Refuses a report that names an ISP outside the reporting gateway's cluster, before anything is
 * written. An ISP the draft has deleted since is still the cluster's while a revision that a
 * gateway may run names it.
 */
async function checkReportedIsps(db: Db, clusterId: string, report: HealthReport): Promise<void> {
  const named = reportedIspIds(report);
  if (named.length === 0) return;
  const ids = [...new Set(named.map((n) => n.id))];
  const rows = await db.isp.findMany({ where: { id: { in: ids } }, select: { id: true, clusterId: true } });
  const owner = new Map(rows.map((r) => [r.id, r.clusterId]));
  const ours = new Set(rows.filter((r) => r.clusterId === clusterId).map((r) => r.id));
  for (const id of ids) {
    if (owner.has(id)) continue;
    const inRevision = await db.revision.findFirst({
      where: { clusterId, policy: { contains: JSON.stringify(id) } },
      select: { number: true },
    });
    if (inRevision !== null) ours.add(id);
  }
  const bad = named.find((n) => !ours.has(n.id));
  if (bad !== undefined) {
    const field = bad.path.join(".");
    const message = `${field}: ISP "${bad.id}" is not an ISP of this gateway's cluster`;
    throw invalid(message, [{ path: bad.path, message }]);
  }
}

export async function recordHealthReport(
  db: Db,
  meta: RequestMeta,
  token: string | null,
  report: HealthReport,
  now = new Date(),
): Promise<HealthAck> {
  const gw = await authenticateAgent(db, token);
  await checkReportedIsps(db, gw.clusterId, report);
  await checkReportedPools(db, gw.clusterId, report);
  let usageEvents: PoolUsageIncidentEvent[] = [];
  const samples = samplesOf(report, now);
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
    await tx.healthSample.createMany({
      data: samples.map((s) => ({ clusterId: gw.clusterId, gatewayId: gw.id, at: s.at, data: JSON.stringify(s.data) })),
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
    if (report.poolUsage !== null) usageEvents = await recordPoolUsage(tx, gw, report.poolUsage, now);
    return ids;
  });
  emitPoolUsageIncidents(usageEvents);
  // the history's minute and hour rows follow the samples (derived data: outside the report's transaction)
  let lost = 0;
  for (const s of samples) lost += await foldIntoRollups(db, gw, s.data, s.at);
  if (lost > 0) logger.warn({ gatewayId: gw.id, lost }, "health rollup folds kept losing their race; sample left out");
  await completeDueOperations(db, gw.clusterId, now);
  notifyHealthChanged(gw.clusterId);
  agentReported(gw.clusterId);
  return { ok: true, recorded };
}

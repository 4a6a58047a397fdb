import type { StatusAck, StatusReport } from "../../../agent/client/protocol";
import { HEARTBEAT_SECONDS } from "../../../agent/client/protocol";
import type { Db } from "../../db";
import { type RequestMeta, recordAudit } from "../audit/record";
import { agentActor, authenticateAgent } from "./agent-auth";

/**
 * Records an agent's report. Every report refreshes last-seen, facts and health; a report of an
 * apply attempt the console has not seen yet (its `at` differs from the stored one) is also an
 * audit event, so heartbeats that repeat the same result add nothing to the audit log.
 */
export async function recordAgentStatus(
  db: Db,
  meta: RequestMeta,
  token: string | null,
  report: StatusReport,
  now = new Date(),
): Promise<StatusAck> {
  return db.$transaction(async (tx) => {
    const gw = await authenticateAgent(tx, token);
    const before = await tx.gateway.findUniqueOrThrow({
      where: { id: gw.id },
      select: { lastApplyAt: true, cluster: { select: { publishedRevision: true, failoverEpoch: true } } },
    });
    const apply = report.lastApply;
    const applyAt = apply === null ? null : new Date(apply.at);
    const newAttempt = apply !== null && applyAt !== null && before.lastApplyAt?.getTime() !== applyAt.getTime();
    await tx.gateway.update({
      where: { id: gw.id },
      data: {
        lastSeenAt: now,
        agentVersion: report.agentVersion,
        appliedRevision: report.running?.revision ?? null,
        appliedEpoch: report.running?.failoverEpoch ?? null,
        lastApplyOk: apply?.ok ?? null,
        lastApplyError: apply === null || apply.ok ? "" : apply.error,
        lastApplyAt: applyAt,
        facts: JSON.stringify({ ...report.facts, lastApplyDurationsMs: apply?.durationsMs ?? {} }),
        health: report.health === undefined ? undefined : JSON.stringify(report.health),
      },
      select: { id: true },
    });
    if (newAttempt) {
      await recordAudit(tx, {
        actor: agentActor(gw),
        meta,
        action: "gateway.apply",
        clusterId: gw.clusterId,
        targetType: "gateway",
        targetId: gw.id,
        after: {
          ok: apply.ok,
          revision: apply.revision,
          failoverEpoch: apply.failoverEpoch,
          error: apply.error,
          durationsMs: apply.durationsMs,
          appliedAt: apply.at,
          agentVersion: report.agentVersion,
        },
      });
    }
    return {
      ok: true,
      published: { revision: before.cluster.publishedRevision, failoverEpoch: before.cluster.failoverEpoch },
      heartbeatSeconds: HEARTBEAT_SECONDS,
    };
  });
}

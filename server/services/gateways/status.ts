import type { StatusAck, StatusReport } from "../../../core/protocol/agent-api";
import { HEARTBEAT_SECONDS } from "../../../core/protocol/agent-api";
import type { Db } from "../../db";
import { type RequestMeta, recordAudit } from "../audit/record";
import { agentActor, authenticateAgent } from "./agent-auth";
import { evaluateHaIncidents, recordHaReport } from "./ha";
import { recordRuleCounters } from "../rule-counters/record";
import { agentReported } from "../cluster-changes/agent-reports";

/** What the console keeps of the last apply attempt, inside the facts column. */
interface AttemptSummary {
  revision: number;
  failoverEpoch: number;
  ok: boolean;
  error: string;
}

/** The last ip rule check the console has, and its conflicts as a comparable key ("[]" when none). */
function previousIpRules(factsJson: string): { check: unknown; key: string } {
  try {
    const facts = JSON.parse(factsJson) as { ipRules?: { conflicts?: unknown } | null };
    return { check: facts.ipRules ?? null, key: JSON.stringify(facts.ipRules?.conflicts ?? []) };
  } catch {
    return { check: null, key: "[]" };
  }
}

function previousAttempt(
  factsJson: string,
  lastApplyOk: boolean | null,
  lastApplyError: string,
): AttemptSummary | null {
  try {
    const facts = JSON.parse(factsJson) as { lastApply?: { revision?: unknown; failoverEpoch?: unknown } };
    const { revision, failoverEpoch } = facts.lastApply ?? {};
    if (typeof revision !== "number" || typeof failoverEpoch !== "number" || lastApplyOk === null) return null;
    return { revision, failoverEpoch, ok: lastApplyOk, error: lastApplyError };
  } catch {
    return null;
  }
}

/**
 * Records an agent's report. Every report refreshes last-seen, facts and health. An apply
 * attempt is an audit event when its outcome is news: another revision or failover epoch, or a
 * different result or error than the attempt before. Heartbeats repeat the last attempt, and an
 * agent retrying a failing apply gets the same error each time: neither floods the audit log.
 * Operator ip rules that would override Gatehouse's are kept with the facts and are an audit event
 * (an alert on the gateway) whenever the list changes, appearing or cleared. The VRRP report is
 * kept, its new transitions audited, and the cluster's HA incidents re-decided.
 */
export async function recordAgentStatus(
  db: Db,
  meta: RequestMeta,
  token: string | null,
  report: StatusReport,
  now = new Date(),
): Promise<StatusAck> {
  const { ack, clusterId } = await db.$transaction(async (tx) => {
    const gw = await authenticateAgent(tx, token);
    const before = await tx.gateway.findUniqueOrThrow({
      where: { id: gw.id },
      select: {
        facts: true,
        lastApplyOk: true,
        lastApplyError: true,
        haStatus: true,
        cluster: { select: { publishedRevision: true, failoverEpoch: true } },
      },
    });
    const apply = report.lastApply;
    const known = previousIpRules(before.facts);
    const conflictsBefore = known.key;
    const ipRules = report.ipRules ?? null;
    const attempt: AttemptSummary | null =
      apply === null
        ? null
        : {
            revision: apply.revision,
            failoverEpoch: apply.failoverEpoch,
            ok: apply.ok,
            error: apply.ok ? "" : apply.error,
          };
    const previous = previousAttempt(before.facts, before.lastApplyOk, before.lastApplyError);
    const news =
      attempt !== null &&
      (previous === null ||
        previous.revision !== attempt.revision ||
        previous.failoverEpoch !== attempt.failoverEpoch ||
        previous.ok !== attempt.ok ||
        previous.error !== attempt.error);
    await tx.gateway.update({
      where: { id: gw.id },
      data: {
        lastSeenAt: now,
        agentVersion: report.agentVersion,
        appliedRevision: report.running?.revision ?? null,
        appliedEpoch: report.running?.failoverEpoch ?? null,
        lastApplyOk: attempt?.ok ?? null,
        lastApplyError: attempt?.error ?? "",
        lastApplyAt: apply === null ? null : new Date(apply.at),
        facts: JSON.stringify({
          ...report.facts,
          lastApply:
            apply === null
              ? null
              : { revision: apply.revision, failoverEpoch: apply.failoverEpoch, durationsMs: apply.durationsMs },
          // an agent that does not check its ip rules leaves the last check alone
          ipRules: ipRules ?? known.check,
          // real server health and traffic; an agent without virtual services reports none
          virtualServices: report.virtualServices ?? [],
        }),
        health: report.health === undefined ? undefined : JSON.stringify(report.health),
      },
      select: { id: true },
    });
    if (news && apply !== null) {
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
          error: apply.ok ? "" : apply.error,
          durationsMs: apply.durationsMs,
          appliedAt: apply.at,
          agentVersion: report.agentVersion,
        },
      });
    }
    if (ipRules !== null && JSON.stringify(ipRules.conflicts) !== conflictsBefore) {
      await recordAudit(tx, {
        actor: agentActor(gw),
        meta,
        action: "gateway.ip_rule_conflicts",
        clusterId: gw.clusterId,
        targetType: "gateway",
        targetId: gw.id,
        before: { conflicts: JSON.parse(conflictsBefore) as unknown },
        after: { conflicts: ipRules.conflicts, checkedAt: ipRules.checkedAt },
      });
    }
    if (report.ruleCounters !== undefined) await recordRuleCounters(tx, gw, report.ruleCounters, now);
    if (report.ha !== undefined) {
      await recordHaReport(tx, gw, agentActor(gw), meta, report.ha, before.haStatus);
    }
    // a report refreshes this gateway's freshness too, so every report re-decides the incidents
    await evaluateHaIncidents(tx, gw.clusterId, now);
    const ack: StatusAck = {
      ok: true,
      published: { revision: before.cluster.publishedRevision, failoverEpoch: before.cluster.failoverEpoch },
      heartbeatSeconds: HEARTBEAT_SECONDS,
    };
    return { ack, clusterId: gw.clusterId };
  });
  // once committed: alerting re-decides the cluster's incidents from this report
  agentReported(clusterId);
  return ack;
}

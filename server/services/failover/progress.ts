import { z } from "zod";
import type { HealthReport } from "../../../core/protocol/health-report";
import type { Db, Tx } from "../../db";
import { recordAudit, SYSTEM_ACTOR, SYSTEM_META } from "../audit/record";

/**
 * How the gateways follow an operator's failover or restore. The operation lists the gateways
 * that were online at the click; each report that shows a gateway running the operation's
 * failover epoch (or a later one) marks it applied, at the console's clock when the report came
 * in, with the agent's own measure of its load. Once every gateway applied, or the deadline
 * passed, the operation is closed and an audit event records the timings: audit events are
 * immutable, so the click's own event cannot be amended; this one names it by operation id.
 */

export const OPERATION_TIMEOUT_MS = 30_000;

export const zOperationGateway = z.object({
  id: z.string(),
  name: z.string(),
  /** console clock: when the console learnt the gateway runs the operation's epoch */
  appliedAt: z.string().nullable(),
  /** the agent's own measure of the load that applied it */
  applyMs: z.number().nullable(),
});
export type OperationGateway = z.infer<typeof zOperationGateway>;
const zGateways = z.array(zOperationGateway);

export function parseOperationGateways(text: string): OperationGateway[] {
  try {
    return zGateways.parse(JSON.parse(text));
  } catch {
    return [];
  }
}

/** Marks the gateway applied in every pending operation of its cluster that its running epoch covers. */
export async function recordGatewayProgress(
  tx: Tx,
  gw: { id: string; clusterId: string },
  report: HealthReport,
  now: Date,
): Promise<void> {
  const running = report.running;
  if (running === null) return;
  const pending = await tx.failoverOperation.findMany({
    where: { clusterId: gw.clusterId, outcome: "", epoch: { lte: running.failoverEpoch } },
    select: { id: true, gateways: true, epoch: true },
  });
  for (const op of pending) {
    const gateways = parseOperationGateways(op.gateways);
    const mine = gateways.find((g) => g.id === gw.id);
    if (mine === undefined || mine.appliedAt !== null) continue;
    mine.appliedAt = now.toISOString();
    const load = report.lastLoad;
    mine.applyMs = load !== null && load.failoverEpoch >= op.epoch ? load.ms : null;
    await tx.failoverOperation.update({ where: { id: op.id }, data: { gateways: JSON.stringify(gateways) } });
  }
}

export interface OperationSummary {
  id: string;
  ispId: string;
  action: string;
  epoch: number;
  actorName: string;
  requestedAt: Date;
  completedAt: Date | null;
  outcome: string;
  gateways: Array<OperationGateway & { afterMs: number | null }>;
  /** click to the last gateway applied, when all did */
  allAppliedMs: number | null;
}

export function summarize(op: {
  id: string;
  ispId: string;
  action: string;
  epoch: number;
  actorName: string;
  requestedAt: Date;
  completedAt: Date | null;
  outcome: string;
  gateways: string;
}): OperationSummary {
  const gateways = parseOperationGateways(op.gateways).map((g) => ({
    ...g,
    afterMs: g.appliedAt === null ? null : new Date(g.appliedAt).getTime() - op.requestedAt.getTime(),
  }));
  // no gateway online at the click: nothing to wait for
  const all = gateways.every((g) => g.afterMs !== null);
  return {
    id: op.id,
    ispId: op.ispId,
    action: op.action,
    epoch: op.epoch,
    actorName: op.actorName,
    requestedAt: op.requestedAt,
    completedAt: op.completedAt,
    outcome: op.outcome,
    gateways,
    allAppliedMs: all ? Math.max(0, ...gateways.map((g) => g.afterMs ?? 0)) : null,
  };
}

const OP_SELECT = {
  id: true,
  ispId: true,
  action: true,
  epoch: true,
  actorName: true,
  requestedAt: true,
  completedAt: true,
  outcome: true,
  gateways: true,
  deadlineAt: true,
  requestId: true,
} as const;

/**
 * Closes the cluster's pending operations that every gateway applied or whose deadline passed,
 * each with one audit event. Safe to run from many requests at once: closing is a conditional
 * update, and only the request that closed an operation writes its event.
 */
export async function completeDueOperations(db: Db, clusterId: string, now = new Date()): Promise<void> {
  const pending = await db.failoverOperation.findMany({ where: { clusterId, outcome: "" }, select: OP_SELECT });
  for (const op of pending) {
    const summary = summarize(op);
    const allApplied = summary.allAppliedMs !== null;
    if (!allApplied && op.deadlineAt.getTime() > now.getTime()) continue;
    const outcome = allApplied ? "applied" : "timed_out";
    await db.$transaction(async (tx) => {
      const { count } = await tx.failoverOperation.updateMany({
        where: { id: op.id, outcome: "" },
        data: { outcome, completedAt: now },
      });
      if (count === 0) return;
      await recordAudit(tx, {
        actor: SYSTEM_ACTOR,
        meta: { ...SYSTEM_META, requestId: op.requestId },
        action: op.action === "restore" ? "isp.restore_applied" : "isp.failover_applied",
        clusterId,
        targetType: "isp",
        targetId: op.ispId,
        after: {
          operationId: op.id,
          requestedBy: op.actorName,
          failoverEpoch: op.epoch,
          outcome,
          allAppliedMs: summary.allAppliedMs,
          gateways: summary.gateways.map((g) => ({
            name: g.name,
            appliedAfterMs: g.afterMs,
            applyMs: g.applyMs,
          })),
          notApplied: summary.gateways.filter((g) => g.afterMs === null).map((g) => g.name),
        },
      });
    });
  }
}

export async function listOperations(db: Db, clusterId: string, limit = 10): Promise<OperationSummary[]> {
  const ops = await db.failoverOperation.findMany({
    where: { clusterId },
    orderBy: { requestedAt: "desc" },
    take: limit,
    select: OP_SELECT,
  });
  return ops.map(summarize);
}

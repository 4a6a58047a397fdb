import { z } from "zod";
import type { Db } from "../../db";
import { conflict } from "../../errors";
import { zId } from "../../../core/policy/model";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { notifyClusterChanged } from "../cluster-changes/notifier";
import { loadClusterFailover } from "./cluster-state";
import { type FailoverAction, type FailoverImpact, failoverImpact } from "./impact";
import { notifyHealthChanged } from "./live";
import { completeDueOperations, OPERATION_TIMEOUT_MS, type OperationGateway } from "./progress";

/**
 * An operator's failover and restore of an ISP. Each writes the ISP's failover state, bumps the
 * cluster's failover epoch (so every gateway's long poll returns with the new spec), opens an
 * operation that tracks each online gateway until it runs the new epoch, and records who did
 * what with the preview they saw, all in one transaction; gateways are woken after the commit.
 */

export const zFailoverInput = z.object({
  clusterId: zId,
  ispId: zId,
  /** null: each gateway uses the first backup in the plan that is healthy there */
  backupIspId: zId.nullable().default(null),
});
export type FailoverInput = z.infer<typeof zFailoverInput>;

export const zRestoreInput = z.object({ clusterId: zId, ispId: zId });
export type RestoreInput = z.infer<typeof zRestoreInput>;

export interface FailoverResult {
  operationId: string;
  failoverEpoch: number;
  impact: FailoverImpact;
}

function scheduleCompletion(db: Db, clusterId: string): void {
  const timer = setTimeout(() => {
    completeDueOperations(db, clusterId).catch(() => {
      // the next health report of any gateway of the cluster closes it instead
    });
  }, OPERATION_TIMEOUT_MS + 250);
  timer.unref?.();
}

async function change(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  action: FailoverAction,
  input: { clusterId: string; ispId: string; backupIspId: string | null },
  now: Date,
): Promise<FailoverResult> {
  const view = await loadClusterFailover(db, input.clusterId, now);
  const impact = failoverImpact(view, { ...input, action });
  if (impact.blocked !== null) throw conflict(impact.blocked);
  const gateways: OperationGateway[] = view.gateways
    .filter((g) => g.online)
    .map((g) => ({ id: g.id, name: g.name, appliedAt: null, applyMs: null }));
  const previous = view.failover.get(input.ispId);
  const result = await db.$transaction(async (tx) => {
    // the preview was computed at this epoch: a change in between means it may be wrong
    const bumped = await tx.cluster.updateMany({
      where: { id: input.clusterId, failoverEpoch: view.cluster.failoverEpoch },
      data: { failoverEpoch: { increment: 1 } },
    });
    if (bumped.count === 0) {
      throw conflict("Someone changed this cluster's failover state a moment ago; look at the preview again");
    }
    const epoch = view.cluster.failoverEpoch + 1;
    const state =
      action === "failover"
        ? { adminState: "failed_over", backupIspId: input.backupIspId }
        : { adminState: "active", backupIspId: null, restoredEpoch: epoch };
    await tx.failoverState.upsert({
      where: { ispId: input.ispId },
      create: { ispId: input.ispId, clusterId: input.clusterId, changedBy: actor.name, changedAt: now, ...state },
      update: { changedBy: actor.name, changedAt: now, ...state },
      select: { ispId: true },
    });
    const op = await tx.failoverOperation.create({
      data: {
        clusterId: input.clusterId,
        ispId: input.ispId,
        action,
        epoch,
        backupIspId: impact.backupToUse?.id ?? null,
        actorName: actor.name,
        requestId: meta.requestId,
        requestedAt: now,
        deadlineAt: new Date(now.getTime() + OPERATION_TIMEOUT_MS),
        gateways: JSON.stringify(gateways),
      },
      select: { id: true },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: action === "failover" ? "isp.failover" : "isp.restore",
      clusterId: input.clusterId,
      targetType: "isp",
      targetId: input.ispId,
      before: { adminState: previous?.adminState ?? "active", backupIspId: previous?.backupIspId ?? null },
      after: {
        isp: impact.isp.name,
        mode: "manual",
        adminState: state.adminState,
        chosenBackupIspId: input.backupIspId,
        backup: impact.backupToUse?.name ?? null,
        failoverEpoch: epoch,
        operationId: op.id,
        rulesAffected: impact.rulesTotal,
        pools: impact.pools,
        connections: impact.connections,
        gateways: gateways.map((g) => g.name),
        warnings: impact.warnings,
      },
    });
    return { operationId: op.id, failoverEpoch: epoch, impact };
  });
  notifyClusterChanged(input.clusterId);
  notifyHealthChanged(input.clusterId);
  scheduleCompletion(db, input.clusterId);
  // with no gateway online there is nothing to wait for
  if (gateways.length === 0) await completeDueOperations(db, input.clusterId);
  return result;
}

export function failoverIsp(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: FailoverInput,
  now = new Date(),
): Promise<FailoverResult> {
  return change(db, actor, meta, "failover", input, now);
}

export function restoreIsp(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: RestoreInput,
  now = new Date(),
): Promise<FailoverResult> {
  return change(db, actor, meta, "restore", { ...input, backupIspId: null }, now);
}

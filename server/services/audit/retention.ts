import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict } from "../../errors";
import { eventProblem, GENESIS_HASH } from "./chain";
import { type Actor, type RequestMeta, recordAudit } from "./record";

/**
 * How long the audit log keeps events, and pruning. A prune deletes the oldest events as one
 * contiguous run (never a hole in the middle) and records the last deleted event's seq and hash
 * as the anchor verification starts from. It first checks the run it is about to delete, so
 * pruning never erases the evidence of an altered event, and it holds the chain head's lock, so
 * it is one step in the same queue as every append.
 */

export const MAX_KEEP_DAYS = 36_500;
export const zRetentionInput = z.object({
  /** null: keep every event */
  keepDays: z.number().int().min(1, "must be at least 1 day").max(MAX_KEEP_DAYS).nullable(),
});
export type RetentionInput = z.infer<typeof zRetentionInput>;

const DAY_MS = 86_400_000;
/** One prune transaction deletes at most this many events, so appends never wait long behind it. */
export const PRUNE_BATCH = 5000;

export async function getRetention(db: Db) {
  const [row, oldest, newest] = await Promise.all([
    db.auditRetention.findUnique({ where: { id: 1 } }),
    db.auditEvent.findFirst({ orderBy: { seq: "asc" }, select: { seq: true, at: true } }),
    db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, at: true } }),
  ]);
  return {
    keepDays: row?.keepDays ?? null,
    anchorSeq: row?.anchorSeq ?? 0,
    anchorHash: row?.anchorHash ?? GENESIS_HASH,
    prunedAt: row?.prunedAt ?? null,
    prunedTotal: row?.prunedTotal ?? 0,
    oldest,
    newest,
  };
}

async function lockChain(tx: Tx) {
  await tx.auditChainHead.update({ where: { id: 1 }, data: { lastSeq: { increment: 0 } }, select: { id: true } });
}

export async function setRetention(db: Db, actor: Actor, meta: RequestMeta, input: RetentionInput) {
  return db.$transaction(async (tx) => {
    await lockChain(tx);
    const row = await tx.auditRetention.findUnique({ where: { id: 1 }, select: { keepDays: true } });
    const before = row?.keepDays ?? null;
    await tx.auditRetention.upsert({
      where: { id: 1 },
      create: { id: 1, keepDays: input.keepDays, anchorHash: GENESIS_HASH },
      update: { keepDays: input.keepDays },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "audit.retention",
      targetType: "audit",
      targetId: "retention",
      before: { keepDays: before },
      after: { keepDays: input.keepDays },
    });
    return { keepDays: input.keepDays };
  });
}

/** Re-checks the events that are about to be deleted, from the anchor up to `through`. */
async function checkRun(tx: Tx, anchorHash: string, from: number, through: number) {
  const rows = await tx.auditEvent.findMany({ where: { seq: { gt: from, lte: through } }, orderBy: { seq: "asc" } });
  let prev = anchorHash;
  for (const row of rows) {
    if (row.prevHash !== prev || eventProblem(row) !== null) {
      throw conflict(
        `Pruning stopped: audit event #${row.seq} does not verify. Export the log and investigate before pruning; nothing was deleted.`,
      );
    }
    prev = row.hash;
  }
}

export interface PruneResult {
  deleted: number;
  /** the new anchor: the last deleted event */
  throughSeq: number | null;
}

/** One prune step: deletes up to `batch` of the oldest events older than the cutoff. */
async function pruneStep(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  cutoff: Date,
  keepDays: number,
  batch: number,
  maxSeq: number,
): Promise<PruneResult> {
  return db.$transaction(
    async (tx) => {
      await lockChain(tx);
      const row = await tx.auditRetention.findUnique({ where: { id: 1 } });
      const anchorSeq = row?.anchorSeq ?? 0;
      const anchorHash = row?.anchorHash ?? GENESIS_HASH;
      const lastOld = await tx.auditEvent.findFirst({
        where: { at: { lt: cutoff }, seq: { lte: maxSeq } },
        orderBy: { seq: "desc" },
        select: { seq: true },
      });
      if (lastOld === null) return { deleted: 0, throughSeq: null };
      const batchEnd = await tx.auditEvent.findFirst({
        where: { seq: { gt: anchorSeq } },
        orderBy: { seq: "asc" },
        skip: batch - 1,
        select: { seq: true },
      });
      const through = Math.min(lastOld.seq, batchEnd?.seq ?? lastOld.seq);
      await checkRun(tx, anchorHash, anchorSeq, through);
      const last = await tx.auditEvent.findUniqueOrThrow({ where: { seq: through }, select: { hash: true } });
      const { count } = await tx.auditEvent.deleteMany({ where: { seq: { lte: through } } });
      const prunedAt = new Date();
      await tx.auditRetention.upsert({
        where: { id: 1 },
        create: { id: 1, keepDays, anchorSeq: through, anchorHash: last.hash, prunedAt, prunedTotal: count },
        update: { anchorSeq: through, anchorHash: last.hash, prunedAt, prunedTotal: { increment: count } },
      });
      await recordAudit(tx, {
        actor,
        meta,
        action: "audit.prune",
        targetType: "audit",
        targetId: "retention",
        before: { anchorSeq, anchorHash },
        after: {
          deleted: count,
          anchorSeq: through,
          anchorHash: last.hash,
          keepDays,
          olderThan: cutoff.toISOString(),
        },
      });
      return { deleted: count, throughSeq: through };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

/**
 * Deletes every event older than the retention period (nothing when none is set), one batch per
 * transaction; each batch is itself an audit event.
 */
export async function pruneAudit(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  opts: { now?: Date; batch?: number } = {},
): Promise<PruneResult> {
  const row = await db.auditRetention.findUnique({ where: { id: 1 }, select: { keepDays: true } });
  const keepDays = row?.keepDays ?? null;
  if (keepDays === null) return { deleted: 0, throughSeq: null };
  const cutoff = new Date((opts.now ?? new Date()).getTime() - keepDays * DAY_MS);
  // events written from here on (the prune's own among them) are never this run's business
  const head = await db.auditChainHead.findUniqueOrThrow({ where: { id: 1 }, select: { lastSeq: true } });
  let deleted = 0;
  let throughSeq: number | null = null;
  for (;;) {
    const step = await pruneStep(db, actor, meta, cutoff, keepDays, opts.batch ?? PRUNE_BATCH, head.lastSeq);
    if (step.deleted === 0) break;
    deleted += step.deleted;
    throughSeq = step.throughSeq;
  }
  return { deleted, throughSeq };
}

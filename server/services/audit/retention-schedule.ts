import type { Db } from "../../db";
import { logger } from "../../log";
import { SYSTEM_ACTOR, SYSTEM_META } from "./record";
import { pruneAudit } from "./retention";

/**
 * Runs the retention prune in the console process: shortly after start, then every hour. Every
 * replica may run it; the chain head's lock makes concurrent prunes take turns, and a prune with
 * nothing old enough to delete writes nothing.
 */

const HOUR_MS = 3_600_000;
const FIRST_RUN_MS = 30_000;

let timer: NodeJS.Timeout | undefined;

async function runOnce(db: Db) {
  try {
    const r = await pruneAudit(db, SYSTEM_ACTOR, SYSTEM_META);
    if (r.deleted > 0) logger.info({ deleted: r.deleted, anchorSeq: r.throughSeq }, "audit retention pruned events");
  } catch (err) {
    logger.error({ err }, "audit retention prune failed");
  }
}

export function startAuditRetention(db: Db, intervalMs = HOUR_MS): void {
  if (timer !== undefined) return;
  const first = setTimeout(() => void runOnce(db), Math.min(FIRST_RUN_MS, intervalMs));
  first.unref();
  timer = setInterval(() => void runOnce(db), intervalMs);
  timer.unref();
}

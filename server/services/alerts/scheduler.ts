import type { Db } from "../../db";
import { logger } from "../../log";
import { onAgentReport } from "../cluster-changes/agent-reports";
import { deliverDue } from "./deliver";
import { evaluateAlerts } from "./evaluate";
import { pruneIncidents } from "./history";

/**
 * Runs alerting in the console process: every cluster is re-decided every few seconds (a gateway
 * that goes silent reports nothing, so only a sweep notices), a cluster whose agent just reported
 * is re-decided at once, and due messages are sent after each pass. Passes in one process run one
 * after another; replicas each run their own, and the database decides who records and sends what.
 */

export const SWEEP_MS = 5_000;
const KICK_DELAY_MS = 200;
/** old resolved incidents are pruned with the first sweep and then about once an hour */
const PRUNE_EVERY_MS = 3_600_000;

export interface AlertScheduler {
  /** waits for the passes queued so far */
  settle(): Promise<void>;
  stop(): void;
}

const store = globalThis as unknown as { gatehouseAlertScheduler?: AlertScheduler };

export interface SchedulerOptions {
  sweepMs?: number;
  kickDelayMs?: number;
  /** when this console started listening to agents; now by default (tests start "long ago") */
  listeningSince?: Date;
}

export function startAlertScheduler(db: Db, opts: SchedulerOptions = {}): AlertScheduler {
  const startedAt = opts.listeningSince ?? new Date();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  const kicked = new Set<string>();
  let kickTimer: NodeJS.Timeout | undefined;

  const run = (what: string, fn: () => Promise<void>) => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await fn();
      } catch (err) {
        logger.error({ err, what }, "alerting pass failed");
      }
    });
    return chain;
  };

  let prunedAt = Number.NEGATIVE_INFINITY;
  const sweep = () =>
    run("sweep", async () => {
      const clusters = await db.cluster.findMany({ select: { id: true } });
      for (const c of clusters) await evaluateAlerts(db, c.id, new Date(), startedAt);
      await deliverDue(db);
      if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        const pruned = await pruneIncidents(db, new Date());
        if (pruned > 0) logger.info({ pruned }, "pruned old resolved alert incidents");
      }
    });

  const unsubscribe = onAgentReport((clusterId) => {
    kicked.add(clusterId);
    kickTimer ??= setTimeout(() => {
      kickTimer = undefined;
      const ids = [...kicked];
      kicked.clear();
      void run("report", async () => {
        for (const id of ids) await evaluateAlerts(db, id, new Date(), startedAt);
        await deliverDue(db);
      });
    }, opts.kickDelayMs ?? KICK_DELAY_MS);
  });
  const timer = setInterval(() => void sweep(), opts.sweepMs ?? SWEEP_MS);
  timer.unref();
  void sweep();
  return {
    settle: () => chain,
    stop() {
      stopped = true;
      clearInterval(timer);
      if (kickTimer !== undefined) clearTimeout(kickTimer);
      unsubscribe();
    },
  };
}

/** The console's one scheduler (started with the console). */
export function startConsoleAlerts(db: Db): void {
  store.gatehouseAlertScheduler ??= startAlertScheduler(db);
}

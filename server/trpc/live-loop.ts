import type { Db } from "../db";
import { liveGeneration, waitForHealthChange } from "../services/failover/live";

/** A live view sends at most this often, and at least this rarely (online/offline ages with time). */
export const LIVE_MIN_GAP_MS = 250;
export const LIVE_MAX_GAP_MS = 1_000;
/** a live view re-checks that its session still exists this often */
export const SESSION_CHECK_MS = 30_000;

/**
 * The loop behind a cluster's live views over server-sent events: reads and sends what `read`
 * answers whenever a report about the cluster arrives in this process (at most 4 a second) and
 * at least once a second, until the client leaves or its session ends.
 */
export async function* clusterLive<T>(opts: {
  db: Db;
  sessionId: string;
  clusterId: string;
  signal: AbortSignal | undefined;
  read: () => Promise<T>;
}): AsyncGenerator<T> {
  const { db, sessionId, clusterId, signal } = opts;
  let sessionCheckedAt = Date.now();
  while (signal?.aborted !== true) {
    const generation = liveGeneration(clusterId);
    const value = await opts.read();
    const sentAt = Date.now();
    yield value;
    if (Date.now() - sessionCheckedAt > SESSION_CHECK_MS) {
      sessionCheckedAt = Date.now();
      const alive = await db.session.findUnique({ where: { id: sessionId }, select: { expiresAt: true } });
      if (alive === null || alive.expiresAt.getTime() < Date.now()) return;
    }
    await waitForHealthChange(clusterId, generation, LIVE_MAX_GAP_MS, signal);
    const gap = Date.now() - sentAt;
    if (gap < LIVE_MIN_GAP_MS) await new Promise((r) => setTimeout(r, LIVE_MIN_GAP_MS - gap));
  }
}

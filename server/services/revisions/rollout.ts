import type { Db } from "../../db";
import { listRevisions } from "../draft/revisions";

/**
 * Where each revision went: per gateway of the cluster, whether it runs the revision now, still
 * has to apply it, failed to (and why), applied it once and moved on, or never had it. Built
 * from the gateway's own state (what it runs, its last attempt) and the gateway.apply events of
 * the audit log (every attempt whose outcome was news).
 */

export type RolloutState =
  | { state: "applied"; at: Date | null }
  | { state: "pending" }
  | { state: "failed"; error: string; at: Date | null }
  | { state: "replaced"; at: Date | null }
  | { state: "never" };

export interface GatewayApplyState {
  id: string;
  name: string;
  appliedRevision: number | null;
  lastApplyOk: boolean | null;
  lastApplyError: string;
  lastApplyAt: Date | null;
  /** the revision of the gateway's last apply attempt, successful or not */
  attemptedRevision: number | null;
}

export interface ApplyAttempt {
  gatewayId: string;
  revision: number;
  ok: boolean;
  error: string;
  at: Date;
}

/** `attempts` newest first. */
export function rolloutOf(
  revision: number,
  published: number,
  g: GatewayApplyState,
  attempts: readonly ApplyAttempt[],
): RolloutState {
  const mine = attempts.filter((a) => a.gatewayId === g.id && a.revision === revision);
  const lastOk = mine.find((a) => a.ok);
  if (g.attemptedRevision === revision && g.lastApplyOk === false) {
    return { state: "failed", error: g.lastApplyError, at: g.lastApplyAt };
  }
  if (g.appliedRevision === revision) return { state: "applied", at: lastOk?.at ?? g.lastApplyAt };
  const latest = mine[0];
  if (latest !== undefined && !latest.ok) {
    return { state: "failed", error: latest.error, at: latest.at };
  }
  if (revision === published) return { state: "pending" };
  if (lastOk !== undefined) return { state: "replaced", at: lastOk.at };
  return { state: "never" };
}

function attemptedRevisionOf(facts: string): number | null {
  try {
    const v = (JSON.parse(facts) as { lastApply?: { revision?: unknown } | null }).lastApply?.revision;
    return typeof v === "number" ? v : null;
  } catch {
    return null;
  }
}

function attemptOf(row: { targetId: string; at: Date; after: string | null }): ApplyAttempt | null {
  try {
    const a = JSON.parse(row.after ?? "null") as { ok?: unknown; revision?: unknown; error?: unknown } | null;
    if (a === null || typeof a.revision !== "number" || typeof a.ok !== "boolean") return null;
    return {
      gatewayId: row.targetId,
      revision: a.revision,
      ok: a.ok,
      error: typeof a.error === "string" ? a.error : "",
      at: row.at,
    };
  } catch {
    return null;
  }
}

/** How many past apply events are read: enough for any revision still on the first pages. */
const ATTEMPT_HISTORY = 5000;

export async function revisionsWithRollout(db: Db, clusterId: string, opts: { cursor?: number; limit: number }) {
  const [revisions, cluster, gateways, applyEvents] = await Promise.all([
    listRevisions(db, clusterId, { cursor: opts.cursor, limit: opts.limit + 1 }),
    db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { publishedRevision: true, draftVersion: true } }),
    db.gateway.findMany({
      where: { clusterId },
      orderBy: { name: "asc" },
      select: {
        id: true,
        name: true,
        appliedRevision: true,
        lastApplyOk: true,
        lastApplyError: true,
        lastApplyAt: true,
        facts: true,
      },
    }),
    db.auditEvent.findMany({
      where: { clusterId, action: "gateway.apply" },
      orderBy: { seq: "desc" },
      take: ATTEMPT_HISTORY,
      select: { targetId: true, at: true, after: true },
    }),
  ]);
  const states: GatewayApplyState[] = gateways.map(({ facts, ...g }) => ({
    ...g,
    attemptedRevision: attemptedRevisionOf(facts),
  }));
  const attempts = applyEvents.map(attemptOf).filter((a): a is ApplyAttempt => a !== null);
  const page = revisions.slice(0, opts.limit);
  return {
    publishedRevision: cluster.publishedRevision,
    gateways: states.map((g) => ({ id: g.id, name: g.name, appliedRevision: g.appliedRevision })),
    revisions: page.map((r) => ({
      ...r,
      rollout: Object.fromEntries(
        states.map((g) => [g.id, rolloutOf(r.number, cluster.publishedRevision, g, attempts)]),
      ) as Record<string, RolloutState>,
    })),
    nextCursor: revisions.length > opts.limit ? page.at(-1)?.number : undefined,
  };
}

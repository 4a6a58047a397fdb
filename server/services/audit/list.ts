import { z } from "zod";
import { Prisma } from "../../../prisma/generated/sqlite/client";
import type { Db } from "../../db";
import { isReadableTime } from "./chain";
import { type AuditFilter, filterConditions, matchingActions, searchTerms, whereClause, zAuditFilter } from "./filter";
import { currentActionName } from "../../../core/audit/action-names";
import { distinctValues, parseJsonColumn, providerOfDb } from "./store";

/**
 * The audit timeline, newest first, one page at a time. Pages are keyset pages on seq ("events
 * older than #n"), so page 200 costs what page 1 costs and new events never shift a page.
 *
 * The structured filters each have an index that ends in seq. A text search cannot use one, so
 * it reads the log in seq windows, newest first, and stops when the page is full or its time
 * budget is spent; then the page says how far back it searched and the next page goes on from
 * there. A rare word in a big log therefore costs several fast pages, never one slow one.
 */

export const zAuditListInput = zAuditFilter.extend({
  /** events older than this sequence number */
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(500).default(50),
});
export type AuditListInput = z.infer<typeof zAuditListInput>;

/** Known actions are few (the code defines them); above this many the list would be someone's junk. */
const MAX_ACTIONS = 2000;
const SEARCH_BUDGET_MS = 60;
const FIRST_WINDOW = 4096;
/** A window of this many events takes ~15 ms to search: the most a page overruns its budget. */
const MAX_WINDOW = 16_384;

export const EVENT_SELECT = {
  seq: true,
  at: true,
  actorType: true,
  actorId: true,
  actorName: true,
  action: true,
  clusterId: true,
  targetType: true,
  targetId: true,
  before: true,
  after: true,
  ip: true,
  userAgent: true,
  requestId: true,
} as const;

/** The exact actions an action filter stands for; undefined when there is no action filter. */
export async function resolveActions(db: Db, action: string | undefined): Promise<string[] | undefined> {
  if (action === undefined) return undefined;
  return matchingActions(action, await distinctValues(db, "action", MAX_ACTIONS));
}

async function seqsBelow(
  db: Db,
  conditions: Prisma.Sql[],
  before: number | undefined,
  low: number | undefined,
  take: number,
): Promise<number[]> {
  const c = [...conditions];
  if (before !== undefined) c.push(Prisma.sql`"seq" < ${before}`);
  if (low !== undefined) c.push(Prisma.sql`"seq" >= ${low}`);
  const rows = await db.$queryRaw<{ seq: number | bigint }[]>(
    Prisma.sql`SELECT "seq" FROM "AuditEvent" ${whereClause(c)} ORDER BY "seq" DESC LIMIT ${take}`,
  );
  return rows.map((r) => Number(r.seq));
}

async function searchWindows(db: Db, conditions: Prisma.Sql[], before: number | undefined, want: number) {
  const bounds = await db.auditEvent.aggregate({ _min: { seq: true }, _max: { seq: true } });
  const floor = bounds._min.seq;
  const top = bounds._max.seq;
  if (floor === null || top === null) return { seqs: [], searchedDownTo: undefined };
  let upper = Math.min(before ?? top + 1, top + 1);
  const deadline = Date.now() + SEARCH_BUDGET_MS;
  const seqs: number[] = [];
  let window = FIRST_WINDOW;
  while (seqs.length < want && upper > floor) {
    const low = Math.max(floor, upper - window);
    seqs.push(...(await seqsBelow(db, conditions, upper, low, want - seqs.length)));
    upper = low;
    if (Date.now() > deadline) break;
    window = Math.min(window * 2, MAX_WINDOW);
  }
  return { seqs, searchedDownTo: upper > floor ? upper : undefined };
}

export async function loadEvents(db: Db, seqs: readonly number[], order: "asc" | "desc" = "desc") {
  if (seqs.length === 0) return [];
  const rows = await db.auditEvent.findMany({
    where: { seq: { in: [...seqs] } },
    select: EVENT_SELECT,
    orderBy: { seq: order },
  });
  const clusterIds = [...new Set(rows.map((r) => r.clusterId).filter((c): c is string => c !== null))];
  const clusters =
    clusterIds.length === 0
      ? []
      : await db.cluster.findMany({ where: { id: { in: clusterIds } }, select: { id: true, name: true } });
  const names = new Map(clusters.map((c) => [c.id, c.name]));
  const targets = await targetNames(db, rows);
  return rows.map((e) => ({
    ...e,
    /** null when the stored time cannot be read (a row edited by hand); verification names such rows */
    at: isReadableTime(e.at) ? e.at : null,
    before: parseJsonColumn(e.before),
    after: parseJsonColumn(e.after),
    /** null for events outside any cluster, and for clusters deleted since */
    clusterName: e.clusterId === null ? null : (names.get(e.clusterId) ?? null),
    /** the current name of a gateway or user the event acted on, when its before/after do not say */
    targetName: targets.get(`${e.targetType}:${e.targetId}`) ?? null,
  }));
}

/** Gateways and users are named by id in their events (an agent's report carries no name). */
async function targetNames(db: Db, rows: readonly { targetType: string; targetId: string }[]) {
  const ids = (type: string) => [
    ...new Set(rows.filter((r) => r.targetType === type && r.targetId).map((r) => r.targetId)),
  ];
  const [gatewayIds, userIds] = [ids("gateway"), ids("user")];
  const [gateways, users] = await Promise.all([
    gatewayIds.length === 0
      ? []
      : db.gateway.findMany({ where: { id: { in: gatewayIds } }, select: { id: true, name: true } }),
    userIds.length === 0
      ? []
      : db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, username: true } }),
  ]);
  return new Map<string, string>([
    ...gateways.map((g): [string, string] => [`gateway:${g.id}`, g.name]),
    ...users.map((u): [string, string] => [`user:${u.id}`, u.username]),
  ]);
}
export type AuditEventView = Awaited<ReturnType<typeof loadEvents>>[number];

export interface AuditPage {
  events: AuditEventView[];
  /** pass as `before` for the next (older) page; undefined when there is nothing older */
  nextBefore: number | undefined;
  /**
   * Set when a search stopped before filling the page: events from this seq down were not
   * searched yet (the next page goes on from there).
   */
  searchedDownTo: number | undefined;
}

export async function listAuditEvents(db: Db, input: AuditListInput): Promise<AuditPage> {
  const f: AuditFilter = input;
  const actions = await resolveActions(db, f.action);
  if (actions !== undefined && actions.length === 0) {
    return { events: [], nextBefore: undefined, searchedDownTo: undefined };
  }
  const conditions = filterConditions(providerOfDb(db), f, actions);
  const want = input.limit + 1;
  let seqs: number[];
  let searchedDownTo: number | undefined;
  if (searchTerms(f.q).length > 0) {
    ({ seqs, searchedDownTo } = await searchWindows(db, conditions, input.before, want));
  } else {
    seqs = await seqsBelow(db, conditions, input.before, undefined, want);
  }
  const page = seqs.slice(0, input.limit);
  const full = seqs.length > input.limit;
  return {
    events: await loadEvents(db, page),
    nextBefore: full ? page.at(-1) : searchedDownTo,
    searchedDownTo: full ? undefined : searchedDownTo,
  };
}

/** Values the filter form offers: every action, target type and (a bounded number of) actor names. */
export async function auditFacets(db: Db) {
  const [actions, targetTypes, actors] = await Promise.all([
    distinctValues(db, "action", MAX_ACTIONS),
    distinctValues(db, "targetType", 200),
    distinctValues(db, "actorName", 200),
  ]);
  // an action renamed since old rows were written is offered once, by its current name
  const current = [...new Set(actions.map(currentActionName))].sort();
  return { actions: current, targetTypes: targetTypes.filter(Boolean), actors: actors.filter(Boolean) };
}

import { z } from "zod";
import { currentActionName } from "../../../core/audit/action-names";
import { Prisma } from "../../../prisma/generated/sqlite/client";
import type { DbProvider } from "../../db";

/**
 * The audit timeline's filter, shared by the list, the event counts and the exports, and its
 * translation into SQL conditions. Values only ever reach the database as bound parameters;
 * the text search escapes LIKE wildcards, so "%" or "_" search for themselves.
 */

/** Empty form fields mean "no filter", not "match the empty string". */
const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
/** NUL cannot be stored in PostgreSQL text and cuts SQLite strings short: refused, not matched. */
const optionalText = (max: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(max, `must be at most ${max} characters`)
      .refine((s) => !s.includes("\u0000"), "must not contain NUL characters")
      .optional(),
  );

export const ACTOR_TYPES = ["user", "agent", "system"] as const;

export const zAuditFilter = z.object({
  clusterId: optionalText(64),
  /** the actor's name, exactly */
  actor: optionalText(64),
  actorType: z.preprocess(blankToUndefined, z.enum(ACTOR_TYPES).optional()),
  /** an action or the start of one: "rule." or "isp.fail" */
  action: optionalText(64),
  /** the kind of thing acted on: rule, isp, revision, gateway, user ... */
  targetType: optionalText(32),
  targetId: optionalText(64),
  /** words (or "quoted phrases") that must all appear somewhere in the event: names, addresses, values */
  q: optionalText(200),
  from: z.date().optional(),
  to: z.date().optional(),
});
export type AuditFilter = z.infer<typeof zAuditFilter>;

/** At most this many search words count; more would only slow the scan down. */
export const MAX_SEARCH_TERMS = 6;

export function searchTerms(q: string | undefined): string[] {
  if (q === undefined) return [];
  const terms: string[] = [];
  // "a phrase" stays one term; an unmatched quote is just a character
  for (const m of q.matchAll(/"([^"]+)"|(\S+)/g)) {
    const term = (m[1] ?? m[2] ?? "").trim();
    if (term !== "" && !terms.includes(term)) terms.push(term);
  }
  return terms.slice(0, MAX_SEARCH_TERMS);
}

/** A LIKE pattern that matches `term` anywhere, with the wildcards and the escape character escaped. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Actions that start with the filter text, from the list of actions the log holds. Rows written
 * under a renamed action keep their old name (the chain hashes it), so an action also matches when
 * its current name does: filtering on "gateway.ssh_enroll" finds the "gateway.ssh_enrol" rows too.
 */
export function matchingActions(filter: string, known: readonly string[]): string[] {
  const prefix = filter.trim().toLowerCase();
  return known.filter(
    (a) => a.toLowerCase().startsWith(prefix) || currentActionName(a).toLowerCase().startsWith(prefix),
  );
}

// every column a search looks in, joined so one LIKE per word covers them all
const SEARCHED = Prisma.raw(
  `("actorName" || ' ' || "action" || ' ' || "targetType" || ' ' || "targetId" || ' ' || "ip" || ' ' || "userAgent" || ' ' || "requestId" || ' ' || COALESCE("before", '') || ' ' || COALESCE("after", ''))`,
);

/**
 * SQL conditions for a filter, ANDed. `actions` is the resolved action prefix: the exact actions
 * to match (an empty list matches nothing, and the caller should not query at all).
 */
export function filterConditions(
  provider: DbProvider,
  f: AuditFilter,
  actions: readonly string[] | undefined,
): Prisma.Sql[] {
  const c: Prisma.Sql[] = [];
  if (f.clusterId !== undefined) c.push(Prisma.sql`"clusterId" = ${f.clusterId}`);
  if (f.actor !== undefined) c.push(Prisma.sql`"actorName" = ${f.actor}`);
  if (f.actorType !== undefined) c.push(Prisma.sql`"actorType" = ${f.actorType}`);
  if (actions !== undefined) {
    c.push(actions.length === 0 ? Prisma.sql`1 = 0` : Prisma.sql`"action" IN (${Prisma.join([...actions])})`);
  }
  if (f.targetType !== undefined) c.push(Prisma.sql`"targetType" = ${f.targetType}`);
  if (f.targetId !== undefined) c.push(Prisma.sql`"targetId" = ${f.targetId}`);
  if (f.from !== undefined) c.push(Prisma.sql`"at" >= ${f.from}`);
  if (f.to !== undefined) c.push(Prisma.sql`"at" <= ${f.to}`);
  // SQLite's LIKE ignores ASCII case already; PostgreSQL needs ILIKE for the same behaviour
  const like = Prisma.raw(provider === "postgresql" ? "ILIKE" : "LIKE");
  for (const term of searchTerms(f.q)) {
    c.push(Prisma.sql`${SEARCHED} ${like} ${containsPattern(term)} ESCAPE '\\'`);
  }
  return c;
}

export function whereClause(conditions: readonly Prisma.Sql[]): Prisma.Sql {
  return conditions.length === 0 ? Prisma.empty : Prisma.sql`WHERE ${Prisma.join([...conditions], " AND ")}`;
}

import { Prisma } from "../../../prisma/generated/sqlite/client";
import type { Db, DbProvider } from "../../db";
import { databaseUrlOf, providerOf } from "../../db/client";

/** Which SQL dialect a client speaks: raw audit queries differ in a word or two between the stores. */
export function providerOfDb(db: Db): DbProvider {
  const url = databaseUrlOf(db);
  return url === undefined ? "sqlite" : providerOf(url);
}

export type FacetColumn = "action" | "actorName" | "targetType";

/**
 * The distinct values of an indexed column, in index order, reading one index entry per value
 * (a loose index scan) instead of every row: fast however many events share a value.
 */
export async function distinctValues(db: Db, column: FacetColumn, limit: number): Promise<string[]> {
  const col = Prisma.raw(`"${column}"`);
  const rows = await db.$queryRaw<{ v: string | null }[]>(Prisma.sql`
    WITH RECURSIVE vals(v) AS (
      SELECT MIN(${col}) FROM "AuditEvent"
      UNION ALL
      SELECT (SELECT MIN(${col}) FROM "AuditEvent" WHERE ${col} > vals.v) FROM vals WHERE vals.v IS NOT NULL
    )
    SELECT v FROM vals WHERE v IS NOT NULL LIMIT ${limit}`);
  return rows.map((r) => r.v).filter((v): v is string => v !== null);
}

/** before/after are JSON text written by recordAudit; a row altered by hand may hold anything. */
export function parseJsonColumn(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

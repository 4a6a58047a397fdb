import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PgClient } from "../../prisma/generated/postgres/client";
import { PrismaClient as SqliteClient } from "../../prisma/generated/sqlite/client";

/**
 * Both generated clients expose the same models and fields (the PostgreSQL schema is generated
 * from the SQLite one), so the SQLite client's type stands for both.
 */
export type Db = SqliteClient;
export type DbProvider = "sqlite" | "postgresql";

export function providerOf(url: string): DbProvider {
  return url.startsWith("file:") ? "sqlite" : "postgresql";
}

/** file:./x.db -> absolute path of x.db; creates its folder. */
export function sqlitePath(url: string): string {
  const path = url.slice("file:".length);
  if (path === ":memory:") return path;
  const abs = resolve(/*turbopackIgnore: true*/ process.cwd(), path);
  mkdirSync(dirname(abs), { recursive: true });
  return abs;
}

/** How long a SQLite writer waits for another process's write lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export interface PgTarget {
  /** the URL without Prisma's own `schema` parameter, which libpq and pg do not know */
  connectionString: string;
  /** Prisma's `?schema=` convention: the PostgreSQL schema that holds the tables (default public) */
  schema: string | undefined;
}

export function pgTarget(url: string): PgTarget {
  const u = new URL(url);
  const schema = u.searchParams.get("schema") ?? undefined;
  u.searchParams.delete("schema");
  return { connectionString: u.toString(), schema };
}

// createDb remembers each client's URL so that migrate(db) can open its own connection to the same store.
const urls = new WeakMap<object, string>();

export function databaseUrlOf(db: Db): string | undefined {
  return urls.get(db);
}

export function createDb(url: string): Db {
  let db: Db;
  if (providerOf(url) === "sqlite") {
    const adapter = new PrismaBetterSqlite3({ url: sqlitePath(url), timeout: SQLITE_BUSY_TIMEOUT_MS });
    db = new SqliteClient({ adapter });
  } else {
    const { connectionString, schema } = pgTarget(url);
    const adapter = new PrismaPg({ connectionString, max: 10 }, schema ? { schema } : undefined);
    db = new PgClient({ adapter }) as unknown as Db;
  }
  urls.set(db, url);
  return db;
}

/** The URL with its password masked, for logs and messages. */
export function redactUrl(url: string): string {
  if (providerOf(url) === "sqlite") return url;
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

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
  const abs = resolve(process.cwd(), path);
  mkdirSync(dirname(abs), { recursive: true });
  return abs;
}

export function createDb(url: string): Db {
  if (providerOf(url) === "sqlite") {
    const adapter = new PrismaBetterSqlite3({ url: sqlitePath(url), timeout: 10_000 });
    return new SqliteClient({ adapter });
  }
  const adapter = new PrismaPg({ connectionString: url, max: 10 });
  return new PgClient({ adapter }) as unknown as Db;
}

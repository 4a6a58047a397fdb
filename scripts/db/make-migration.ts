/**
 * npm run db:migration -- <name> [--pg-url postgresql://...]
 *
 * Writes the migration that takes "every migration so far" to prisma/schema.prisma, for SQLite
 * (prisma/migrations/<stamp>_<name>/) and PostgreSQL (prisma/postgres/migrations/<stamp>_<name>/), using Prisma's
 * schema engine. PostgreSQL needs a server for its shadow database: a private throwaway cluster is started unless
 * --pg-url names one (the URL's user must be allowed to create databases).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { startPostgresCluster } from "../../testkit/postgres";
import type { DbProvider } from "../../server/db/client";
import {
  LOCKFILE,
  lockfileContent,
  MIGRATIONS_DIRS,
  readMigrations,
  SCHEMA_FILES,
} from "../../server/db/migration-files";
import { nextStamp } from "./migration-stamp";
import { toPostgresSchema } from "./postgres-schema";
import { diffMigrationsToSchema, type EngineTarget, openSchemaEngine } from "./schema-engine";

async function pendingSql(provider: DbProvider, target: EngineTarget, schema: string): Promise<string | null> {
  const session = await openSchemaEngine(target, schema);
  try {
    const diff = await diffMigrationsToSchema(session, MIGRATIONS_DIRS[provider], schema);
    return diff.empty ? null : diff.sql;
  } finally {
    await session.close();
  }
}

function write(provider: DbProvider, folder: string, sql: string): string {
  const dir = MIGRATIONS_DIRS[provider];
  mkdirSync(join(dir, folder), { recursive: true });
  if (!existsSync(join(dir, LOCKFILE))) writeFileSync(join(dir, LOCKFILE), lockfileContent(provider));
  const path = join(dir, folder, "migration.sql");
  writeFileSync(path, sql);
  return relative(process.cwd(), path);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { "pg-url": { type: "string" } },
  });
  const name = positionals[0];
  if (positionals.length !== 1 || !name || !/^[a-z0-9_]+$/.test(name)) {
    throw new Error("usage: npm run db:migration -- <name, lowercase letters, digits and _> [--pg-url URL]");
  }

  // The PostgreSQL schema must be the current twin of the SQLite one before we diff against it.
  const sqliteSchema = readFileSync(SCHEMA_FILES.sqlite, "utf8");
  const pgSchema = toPostgresSchema(sqliteSchema);
  if (!existsSync(SCHEMA_FILES.postgresql) || readFileSync(SCHEMA_FILES.postgresql, "utf8") !== pgSchema) {
    writeFileSync(SCHEMA_FILES.postgresql, pgSchema);
    console.log(`regenerated ${relative(process.cwd(), SCHEMA_FILES.postgresql)}`);
  }

  const sqliteSql = await pendingSql("sqlite", { provider: "sqlite", path: ":memory:" }, sqliteSchema);

  const cluster = values["pg-url"] ? undefined : await startPostgresCluster();
  let pgSql: string | null;
  try {
    const url = values["pg-url"] ?? cluster?.adminUrl ?? "";
    pgSql = await pendingSql("postgresql", { provider: "postgresql", url }, pgSchema);
  } finally {
    await cluster?.stop();
  }

  if (sqliteSql === null && pgSql === null) {
    console.log("prisma/schema.prisma matches the migrations of both stores: nothing to write");
    return;
  }
  const existing = [...readMigrations(MIGRATIONS_DIRS.sqlite), ...readMigrations(MIGRATIONS_DIRS.postgresql)];
  const folder = `${nextStamp(
    new Date(),
    existing.map((m) => m.name),
  )}_${name}`;
  for (const [provider, sql] of [
    ["sqlite", sqliteSql],
    ["postgresql", pgSql],
  ] as const) {
    if (sql === null) console.log(`${provider}: already matches the schema, no migration written`);
    else console.log(`${provider}: wrote ${write(provider, folder, sql)}`);
  }
}

main().then(
  // the engine's driver pools may keep sockets around; the work is done
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);

import { type Db, databaseUrlOf, providerOf, sqlitePath } from "./client";
import { MIGRATIONS_DIRS, readMigrations } from "./migration-files";
import { planMigrations } from "./migration-plan";
import type { MigrationStore } from "./migration-store";
import { pgMigrationStore } from "./migration-store-pg";
import { sqliteMigrationStore } from "./migration-store-sqlite";

export { MigrationRefused } from "./migration-plan";

export interface MigrateOptions {
  /** folder of <timestamp>_<name>/migration.sql; defaults to the store's folder under prisma/ */
  dir?: string;
  /** PostgreSQL: how long to wait for another replica's migration run to finish (default 5 minutes) */
  lockTimeoutMs?: number;
  log?: (message: string) => void;
}

export class MigrationFailed extends Error {
  override name = "MigrationFailed";
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(
      `migration ${migration} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

function openStore(url: string, lockTimeoutMs: number): MigrationStore {
  return providerOf(url) === "sqlite" ? sqliteMigrationStore(sqlitePath(url)) : pgMigrationStore(url, lockTimeoutMs);
}

/**
 * Applies every pending migration, each in its own transaction, and records it in `_prisma_migrations` exactly as
 * `prisma migrate deploy` would. Answers the names of the migrations this call applied, in order (empty when the
 * database was up to date, also when another replica applied them while this one waited). Throws MigrationRefused (nothing applied) when the recorded history does not fit
 * the migration files, and MigrationFailed when a script fails (that migration rolled back, earlier ones kept).
 */
export async function migrate(target: Db | string, options: MigrateOptions = {}): Promise<string[]> {
  const url = typeof target === "string" ? target : databaseUrlOf(target);
  if (!url) throw new Error("migrate(db) needs a client made by createDb(), or pass the database URL");
  const provider = providerOf(url);
  const files = readMigrations(options.dir ?? MIGRATIONS_DIRS[provider]);
  if (files.length === 0) throw new Error(`no migrations found in ${options.dir ?? MIGRATIONS_DIRS[provider]}`);
  const log = options.log ?? (() => {});

  const store = openStore(url, options.lockTimeoutMs ?? 5 * 60_000);
  try {
    await store.open();
    const pending = planMigrations(files, await store.applied());
    const applied: string[] = [];
    for (const migration of pending) {
      let ran: boolean;
      try {
        ran = await store.apply(migration);
      } catch (e) {
        throw new MigrationFailed(migration.name, e);
      }
      if (ran) {
        applied.push(migration.name);
        log(`applied migration ${migration.name}`);
      }
    }
    return applied;
  } finally {
    await store.close();
  }
}

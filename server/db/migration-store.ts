import type { DbProvider } from "./client";
import type { MigrationFile } from "./migration-files";
import type { AppliedMigration } from "./migration-plan";

/** Where migrations are applied and recorded: one connection, held for one `migrate()` run. */
export interface MigrationStore {
  readonly provider: DbProvider;
  /** Creates `_prisma_migrations` when missing and takes whatever lock keeps other migrators out. */
  open(): Promise<void>;
  applied(): Promise<AppliedMigration[]>;
  /**
   * Runs the script and records it, atomically. Answers false when another process recorded it first (then
   * nothing ran).
   */
  apply(migration: MigrationFile): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Prisma's own `_prisma_migrations` layouts, as its schema engine creates them, so `prisma migrate deploy` and
 * `migrate status` read our records as theirs.
 */
export const MIGRATIONS_TABLE_DDL: Record<DbProvider, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`,
};

export const SELECT_APPLIED = `SELECT "migration_name", "checksum", "finished_at", "rolled_back_at"
  FROM "_prisma_migrations" ORDER BY "started_at", "migration_name"`;

export interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

export function toApplied(row: MigrationRow): AppliedMigration {
  return {
    migrationName: row.migration_name,
    checksum: row.checksum,
    finishedAt: row.finished_at,
    rolledBackAt: row.rolled_back_at,
  };
}

/** A whole script is one step for Prisma too: a migration it applied successfully records 1. */
export const APPLIED_STEPS = 1;

export function isRecordedAsApplied(rows: readonly AppliedMigration[], name: string): boolean {
  return rows.some((r) => r.migrationName === name && r.finishedAt !== null && r.rolledBackAt === null);
}

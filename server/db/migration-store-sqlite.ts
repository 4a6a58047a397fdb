import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { SQLITE_BUSY_TIMEOUT_MS } from "./client";
import type { MigrationFile } from "./migration-files";
import {
  APPLIED_STEPS,
  isRecordedAsApplied,
  MIGRATIONS_TABLE_DDL,
  type MigrationRow,
  type MigrationStore,
  SELECT_APPLIED,
  toApplied,
} from "./migration-store";

/** The text form Prisma's engine writes into SQLite DATETIME columns (RFC 3339, milliseconds, +00:00). */
export function sqliteTimestamp(d: Date): string {
  return d.toISOString().replace("Z", "+00:00");
}

const isBusy = (e: unknown) =>
  typeof (e as { code?: unknown }).code === "string" && (e as { code: string }).code.startsWith("SQLITE_BUSY");

/**
 * Runs `fn`, again while SQLite answers "database is locked" for at most the busy timeout. The busy
 * handler covers most waits, but not all: switching to WAL and a WAL recovery while another process
 * (a second replica starting, say) does the same answer SQLITE_BUSY at once.
 */
function whenUnlocked<T>(fn: () => T): T {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

/**
 * SQLite: every migration runs in a BEGIN IMMEDIATE transaction, which takes the database's write lock, and checks
 * again inside it that no other process recorded the migration meanwhile.
 */
export function sqliteMigrationStore(path: string): MigrationStore {
  let db: Database.Database | undefined;
  const conn = () => {
    if (!db) throw new Error("migration store is not open");
    return db;
  };
  const rows = () => (conn().prepare(SELECT_APPLIED).all() as MigrationRow[]).map(toApplied);

  return {
    provider: "sqlite",
    async open() {
      db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
      // WAL lets the console keep reading while another process (a migration, a backup) writes.
      const d = db;
      if (path !== ":memory:") whenUnlocked(() => d.pragma("journal_mode = WAL"));
      whenUnlocked(() => d.exec(MIGRATIONS_TABLE_DDL.sqlite));
    },
    async applied() {
      return whenUnlocked(rows);
    },
    async apply(migration: MigrationFile) {
      const d = conn();
      // Prisma's table rebuilds (CREATE new_X, copy, DROP X, RENAME) need foreign keys off, or dropping a parent
      // deletes its children through ON DELETE CASCADE. The pragma is ignored inside a transaction, so it is set
      // before BEGIN, and the constraints are checked by hand before COMMIT instead.
      const foreignKeys = d.pragma("foreign_keys", { simple: true }) as number;
      d.pragma("foreign_keys = OFF");
      try {
        whenUnlocked(() => d.exec("BEGIN IMMEDIATE"));
        try {
          if (isRecordedAsApplied(rows(), migration.name)) {
            d.exec("ROLLBACK");
            return false;
          }
          const startedAt = new Date();
          d.exec(migration.sql);
          const violations = d.pragma("foreign_key_check") as { table: string; parent: string }[];
          if (violations.length > 0) {
            const first = violations[0];
            throw new Error(
              `leaves ${violations.length} row(s) violating foreign keys (first: ${first?.table} -> ${first?.parent})`,
            );
          }
          d.prepare(
            `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs",
              "rolled_back_at", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)`,
          ).run(
            randomUUID(),
            migration.checksum,
            sqliteTimestamp(new Date()),
            migration.name,
            sqliteTimestamp(startedAt),
            APPLIED_STEPS,
          );
          d.exec("COMMIT");
          return true;
        } catch (e) {
          if (d.inTransaction) d.exec("ROLLBACK");
          throw e;
        }
      } finally {
        d.pragma(`foreign_keys = ${foreignKeys ? "ON" : "OFF"}`);
      }
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}

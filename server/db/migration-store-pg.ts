import { randomUUID } from "node:crypto";
import pg from "pg";
import { pgTarget } from "./client";
import type { MigrationFile } from "./migration-files";
import {
  APPLIED_STEPS,
  MIGRATIONS_TABLE_DDL,
  type MigrationRow,
  type MigrationStore,
  SELECT_APPLIED,
  toApplied,
} from "./migration-store";

/** The advisory lock key `prisma migrate` takes, so our runner and Prisma's CLI also keep out of each other's way. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const LOCK_POLL_MS = 250;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * PostgreSQL: one session holds the advisory lock for the whole run, so when several console replicas start at
 * once the first applies the pending migrations and the others wait, then find nothing left to do. Each migration
 * runs in its own transaction (PostgreSQL DDL is transactional), so a failing one leaves no trace.
 */
export function pgMigrationStore(url: string, lockTimeoutMs: number): MigrationStore {
  const { connectionString, schema } = pgTarget(url);
  let client: pg.Client | undefined;
  let locked = false;
  const conn = () => {
    if (!client) throw new Error("migration store is not open");
    return client;
  };

  async function lock(c: pg.Client): Promise<void> {
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [PRISMA_MIGRATE_LOCK_KEY]);
      if (r.rows[0]?.ok) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${lockTimeoutMs} ms waiting for the migration lock (advisory lock ${PRISMA_MIGRATE_LOCK_KEY}), ` +
            "held by another console or by prisma migrate",
        );
      }
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  return {
    provider: "postgresql",
    async open() {
      const c = new pg.Client({ connectionString });
      await c.connect();
      client = c;
      await lock(c);
      locked = true;
      if (schema) {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await c.query(`SET search_path TO ${quoteIdent(schema)}`);
      }
      await c.query(MIGRATIONS_TABLE_DDL.postgresql);
    },
    async applied() {
      return (await conn().query<MigrationRow>(SELECT_APPLIED)).rows.map(toApplied);
    },
    async apply(migration: MigrationFile) {
      const c = conn();
      await c.query("BEGIN");
      try {
        const startedAt = new Date();
        // no parameters: the simple query protocol, which runs a multi-statement script in one round trip
        await c.query(migration.sql);
        await c.query(
          `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs",
            "rolled_back_at", "started_at", "applied_steps_count") VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, $5)`,
          [randomUUID(), migration.checksum, migration.name, startedAt, APPLIED_STEPS],
        );
        await c.query("COMMIT");
        return true;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => {});
        throw e;
      }
    },
    async close() {
      const c = client;
      client = undefined;
      if (!c) return;
      try {
        if (locked) await c.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      } finally {
        locked = false;
        // ending the session releases the lock even if the unlock above failed
        await c.end();
      }
    },
  };
}

import { execFile } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDb, type DbProvider, pgTarget, sqlitePath } from "./client";
import { MIGRATIONS_DIRS, readMigrations } from "./migration-files";
import { PRISMA_MIGRATE_LOCK_KEY } from "./migration-store-pg";
import { MigrationFailed, MigrationRefused, migrate } from "./migrate";
import { type FreshStore, freshStore, PROVIDERS } from "../../testkit/server/databases";

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
  applied_steps_count: number | bigint;
}

/** Raw SQL against a store, outside of everything under test. */
async function query<T>(url: string, sql: string): Promise<T[]> {
  if (url.startsWith("file:")) {
    const db = new Database(sqlitePath(url));
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: pgTarget(url).connectionString });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const recorded = (url: string) =>
  query<Row>(
    url,
    `SELECT "migration_name", "checksum", "finished_at", "rolled_back_at", "applied_steps_count"
       FROM "_prisma_migrations" ORDER BY "migration_name"`,
  );

async function tableNames(url: string): Promise<string[]> {
  const rows = url.startsWith("file:")
    ? await query<{ name: string }>(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    : await query<{ name: string }>(url, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
  return rows.map((r) => r.name).sort();
}

/** A migrations folder of our own, for histories the real one does not have. */
function migrationsDir(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-migrations-"));
  for (const [name, sql] of Object.entries(scripts)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "migration.sql"), sql);
  }
  tempDirs.push(dir);
  return dir;
}
const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

describe.each(PROVIDERS)("migrate on %s", (provider: DbProvider) => {
  let store: FreshStore;
  beforeEach(async () => {
    store = await freshStore(provider);
  });
  afterEach(async () => {
    await store.drop();
  });

  const shipped = readMigrations(MIGRATIONS_DIRS[provider]);

  it("applies every shipped migration to an empty database and records it as Prisma does", async () => {
    expect(shipped.length).toBeGreaterThan(0);
    const applied = await migrate(store.url);
    expect(applied).toEqual(shipped.map((m) => m.name));

    const rows = await recorded(store.url);
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(shipped.map((m) => [m.name, m.checksum]));
    for (const r of rows) {
      expect(r.finished_at).not.toBeNull();
      expect(r.rolled_back_at).toBeNull();
      expect(Number(r.applied_steps_count)).toBe(1);
    }
    expect(await tableNames(store.url)).toEqual(expect.arrayContaining(["User", "Cluster", "AuditEvent"]));
  });

  it("renames stored SSH job kinds from the old spelling to the new one", async () => {
    const rename = shipped.findIndex((m) => m.name.endsWith("_enroll_spelling"));
    expect(rename).toBeGreaterThan(0);
    const before = shipped.slice(0, rename);
    await migrate(store.url, { dir: migrationsDir(Object.fromEntries(before.map((m) => [m.name, m.sql]))) });
    for (const [id, kind] of [
      ["job-1", "enrol"],
      ["job-2", "upgrade"],
    ]) {
      await query(
        store.url,
        `INSERT INTO "SshJob" ("id", "clusterId", "kind", "title", "actorName", "updatedAt")
           VALUES ('${id}', 'c1', '${kind}', 't', 'alice', CURRENT_TIMESTAMP) RETURNING "id"`,
      );
    }
    await migrate(store.url);
    const rows = await query<{ id: string; kind: string }>(
      store.url,
      `SELECT "id", "kind" FROM "SshJob" ORDER BY "id"`,
    );
    expect(rows).toEqual([
      { id: "job-1", kind: "enroll" },
      { id: "job-2", kind: "upgrade" },
    ]);
  });

  it("does nothing on the second run, also through a client made by createDb", async () => {
    await migrate(store.url);
    const before = await recorded(store.url);
    const db = createDb(store.url);
    try {
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.$disconnect();
    }
    expect(await recorded(store.url)).toEqual(before);
  });

  it("refuses to start when an applied migration was edited, and runs nothing", async () => {
    const dir = migrationsDir({
      "20260101000000_one": `CREATE TABLE "one" ("id" INTEGER NOT NULL PRIMARY KEY);\n`,
      "20260102000000_two": `CREATE TABLE "two" ("id" INTEGER NOT NULL PRIMARY KEY);\n`,
    });
    await migrate(store.url, { dir });
    appendFileSync(join(dir, "20260102000000_two", "migration.sql"), `CREATE TABLE "sneaky" ("id" INTEGER);\n`);
    mkdirSync(join(dir, "20260103000000_three"));
    writeFileSync(join(dir, "20260103000000_three", "migration.sql"), `CREATE TABLE "three" ("id" INTEGER);\n`);

    const run = migrate(store.url, { dir });
    await expect(run).rejects.toThrow(MigrationRefused);
    await expect(run).rejects.toThrow(/20260102000000_two was modified/);
    const tables = await tableNames(store.url);
    expect(tables).not.toContain("sneaky");
    expect(tables).not.toContain("three");
  });

  it("rolls back a failing migration entirely and keeps the ones before it", async () => {
    const dir = migrationsDir({
      "20260101000000_one": `CREATE TABLE "one" ("id" INTEGER NOT NULL PRIMARY KEY);\n`,
      "20260102000000_bad": `CREATE TABLE "half" ("id" INTEGER);\nINSERT INTO "nowhere" VALUES (1);\n`,
    });
    const run = migrate(store.url, { dir });
    await expect(run).rejects.toThrow(MigrationFailed);
    await expect(run).rejects.toThrow(/20260102000000_bad failed/);
    const tables = await tableNames(store.url);
    expect(tables).toContain("one");
    expect(tables).not.toContain("half");
    expect((await recorded(store.url)).map((r) => r.migration_name)).toEqual(["20260101000000_one"]);
  });

  it("refuses a database that a newer version migrated further", async () => {
    const dir = migrationsDir({ "20260101000000_one": `CREATE TABLE "one" ("id" INTEGER);\n` });
    const newer = migrationsDir({
      "20260101000000_one": `CREATE TABLE "one" ("id" INTEGER);\n`,
      "20260105000000_later": `CREATE TABLE "later" ("id" INTEGER);\n`,
    });
    await migrate(store.url, { dir: newer });
    await expect(migrate(store.url, { dir })).rejects.toThrow(
      /20260105000000_later, which this version does not include/,
    );
  });
});

describe.each(PROVIDERS)("npm run db:migrate on %s", (provider: DbProvider) => {
  let store: FreshStore;
  beforeEach(async () => {
    store = await freshStore(provider);
  });
  afterEach(async () => {
    await store.drop();
  });

  it("two processes started together apply the shipped migrations once between them", async () => {
    const run = () =>
      promisify(execFile)(join("node_modules", ".bin", "tsx"), ["scripts/db/migrate.ts", "--url", store.url], {
        timeout: 60_000,
      });
    const outputs = (await Promise.all([run(), run()])).map((r) => r.stdout);
    const shipped = readMigrations(MIGRATIONS_DIRS[provider]);
    const appliedLines = outputs.flatMap((o) => o.split("\n").filter((l) => l.startsWith("applied migration ")));
    // each migration runs in its own transaction, so the two may take turns: every one applied once
    // between them is what counts, whichever process applied it
    expect(appliedLines.sort()).toEqual(shipped.map((m) => `applied migration ${m.name}`).sort());
    expect((await recorded(store.url)).map((r) => r.migration_name)).toEqual(shipped.map((m) => m.name));
  }, 90_000);
});

describe("migrate on sqlite: table rebuilds and foreign keys", () => {
  let store: FreshStore;
  beforeEach(async () => {
    store = await freshStore("sqlite");
  });
  afterEach(async () => {
    await store.drop();
  });

  const init = `CREATE TABLE "Parent" ("id" TEXT NOT NULL PRIMARY KEY);
CREATE TABLE "Child" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "parentId" TEXT NOT NULL,
    CONSTRAINT "Child_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Parent" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "Parent" ("id") VALUES ('p1'), ('p2');
INSERT INTO "Child" ("id", "parentId") VALUES ('c1', 'p1'), ('c2', 'p1'), ('c3', 'p2');
`;
  // the shape of Prisma's SQLite "RedefineTables" migrations: rebuild the parent under a new name, swap it in
  const rebuildParent = `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Parent" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL DEFAULT '');
INSERT INTO "new_Parent" ("id") SELECT "id" FROM "Parent";
DROP TABLE "Parent";
ALTER TABLE "new_Parent" RENAME TO "Parent";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;

  it("keeps child rows when a migration rebuilds their parent table", async () => {
    const dir = migrationsDir({ "20260101000000_init": init, "20260102000000_rebuild": rebuildParent });
    expect(await migrate(store.url, { dir })).toHaveLength(2);
    expect(await query(store.url, `SELECT "id" FROM "Child" ORDER BY "id"`)).toEqual([
      { id: "c1" },
      { id: "c2" },
      { id: "c3" },
    ]);
    expect(await query(store.url, `SELECT "id", "name" FROM "Parent" ORDER BY "id"`)).toEqual([
      { id: "p1", name: "" },
      { id: "p2", name: "" },
    ]);
  });

  it("is guarding against a real trap: with foreign keys on, the same rebuild in a transaction loses the children", () => {
    const db = new Database(":memory:");
    try {
      expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
      db.exec(init);
      db.exec("BEGIN");
      db.exec(rebuildParent);
      db.exec("COMMIT");
      expect(db.prepare(`SELECT count(*) AS n FROM "Child"`).get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it("rolls back a migration that leaves rows pointing nowhere", async () => {
    const dir = migrationsDir({
      "20260101000000_init": init,
      "20260102000000_orphans": `DELETE FROM "Parent" WHERE "id" = 'p2';\n`,
    });
    await expect(migrate(store.url, { dir })).rejects.toThrow(/20260102000000_orphans failed.*violating foreign keys/);
    expect(await query(store.url, `SELECT "id" FROM "Parent" ORDER BY "id"`)).toEqual([{ id: "p1" }, { id: "p2" }]);
  });

  it("leaves foreign key enforcement on for the connection afterwards", async () => {
    // what matters is the database the console then uses: a fresh connection enforces them again
    const dir = migrationsDir({ "20260101000000_init": init });
    await migrate(store.url, { dir });
    const db = new Database(sqlitePath(store.url));
    try {
      expect(() => db.exec(`INSERT INTO "Child" ("id", "parentId") VALUES ('c9', 'missing')`)).toThrow(/FOREIGN KEY/);
    } finally {
      db.close();
    }
  });
});

describe("migrate on postgresql: several replicas", () => {
  let store: FreshStore;
  beforeEach(async () => {
    store = await freshStore("postgresql");
  });
  afterEach(async () => {
    await store.drop();
  });

  it("applies each migration exactly once when two replicas start at the same time", async () => {
    const dir = migrationsDir({
      "20260101000000_one": `CREATE TABLE "one" ("id" INTEGER NOT NULL PRIMARY KEY);\n`,
      // slow enough that the second replica certainly arrives while the first is still migrating
      "20260102000000_slow": `SELECT pg_sleep(0.5);\nCREATE TABLE "slow" ("id" INTEGER);\n`,
      "20260103000000_three": `INSERT INTO "one" ("id") VALUES (1);\n`,
    });
    const [first, second] = await Promise.all([migrate(store.url, { dir }), migrate(store.url, { dir })]);
    // one replica did all the work; the other waited for the lock and found nothing left
    expect([first, second].map((a) => a.length).sort()).toEqual([0, 3]);
    expect((await recorded(store.url)).map((r) => r.migration_name)).toEqual([
      "20260101000000_one",
      "20260102000000_slow",
      "20260103000000_three",
    ]);
    // a migration applied twice would have failed on the primary key
    expect(await query(store.url, `SELECT "id" FROM "one"`)).toEqual([{ id: 1 }]);
  });

  it("waits for a migration run holding Prisma's lock, and gives up after the timeout", async () => {
    const holder = new pg.Client({ connectionString: store.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      const started = Date.now();
      await expect(migrate(store.url, { lockTimeoutMs: 600 })).rejects.toThrow(/waiting for the migration lock/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
      expect(await tableNames(store.url)).toEqual([]);

      const run = migrate(store.url, { lockTimeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      await holder.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      expect((await run).length).toBeGreaterThan(0);
    } finally {
      await holder.end();
    }
  });
});

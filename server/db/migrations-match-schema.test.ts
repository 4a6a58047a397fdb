import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  type EngineSession,
  migrationList,
  openSchemaEngine,
} from "../../scripts/db/schema-engine";
import { type DbProvider, sqlitePath } from "./client";
import { MIGRATIONS_DIRS, readMigrations, SCHEMA_FILES } from "./migration-files";
import { migrate } from "./migrate";
import { type FreshStore, freshStore, PROVIDERS } from "../../testkit/server/databases";

const NO_FILTER = { externalTables: [], externalEnums: [] };

function engineFor(provider: DbProvider, url: string, schema: string): Promise<EngineSession> {
  return provider === "sqlite"
    ? openSchemaEngine({ provider, path: sqlitePath(url) }, schema)
    : openSchemaEngine({ provider, url }, schema);
}

/** The layout of `_prisma_migrations` as the database reports it. */
async function migrationsTableLayout(url: string): Promise<unknown> {
  if (url.startsWith("file:")) {
    const db = new Database(sqlitePath(url));
    try {
      return db.prepare(`SELECT sql FROM sqlite_master WHERE tbl_name = '_prisma_migrations' ORDER BY name`).all();
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query(
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    const constraints = await client.query(
      `SELECT conname, contype::text FROM pg_constraint WHERE conrelid = '"_prisma_migrations"'::regclass`,
    );
    return { columns: columns.rows, constraints: constraints.rows };
  } finally {
    await client.end();
  }
}

describe.each(PROVIDERS)("migrations and schema on %s", (provider: DbProvider) => {
  const schema = readFileSync(SCHEMA_FILES[provider], "utf8");
  const dir = MIGRATIONS_DIRS[provider];
  const stores: FreshStore[] = [];
  const store = async () => {
    const s = await freshStore(provider);
    stores.push(s);
    return s;
  };
  beforeEach(() => {
    stores.length = 0;
  });
  afterEach(async () => {
    for (const s of stores) await s.drop();
  });

  /** One engine call; the session is closed right after, as the engine keeps SQLite locked exclusively. */
  async function withEngine<T>(url: string, fn: (s: EngineSession) => Promise<T>, target = schema): Promise<T> {
    const session = await engineFor(provider, url, target);
    try {
      return await fn(session);
    } finally {
      await session.close();
    }
  }

  it("a database built by applying every migration is exactly schema.prisma", async () => {
    const { url } = await store();
    await migrate(url);
    const diff = await withEngine(url, (s) => diffDatabaseToSchema(s, schema));
    // on failure: the schema changed without a migration; run `npm run db:migration <name>`
    expect(diff.empty, `schema.prisma differs from the migrated database:\n${diff.sql}`).toBe(true);
  });

  it("the migrations replayed by Prisma's engine also give exactly schema.prisma", async () => {
    const { url } = await store();
    const diff = await withEngine(url, (s) => diffMigrationsToSchema(s, dir, schema));
    expect(diff.empty, diff.sql).toBe(true);
  });

  it("notices a model change that has no migration", async () => {
    const { url } = await store();
    await migrate(url);
    const changed = schema.replace(/model User \{\n/, "model User {\n  nickname String?\n");
    expect(changed).not.toBe(schema);
    const diff = await withEngine(url, (s) => diffDatabaseToSchema(s, changed), changed);
    expect(diff.empty).toBe(false);
    expect(diff.sql).toMatch(/ADD COLUMN\s+"nickname" TEXT/);
  });

  it("Prisma's engine reads the history our runner wrote as its own, and the other way round", async () => {
    const ours = await store();
    await migrate(ours.url);
    const diagnosis = await withEngine(ours.url, (s) =>
      s.call((e) =>
        e.diagnoseMigrationHistory({
          migrationsList: migrationList(provider, dir),
          optInToShadowDatabase: false,
          filters: NO_FILTER,
        }),
      ),
    );
    expect(diagnosis).toEqual({
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: null,
    });

    // a database `prisma migrate deploy` migrated: same table layout, and nothing left for us to apply
    const theirs = await store();
    const applied = await withEngine(theirs.url, (s) =>
      s.call((e) => e.applyMigrations({ migrationsList: migrationList(provider, dir), filters: NO_FILTER })),
    );
    expect(applied.appliedMigrationNames).toEqual(readMigrations(dir).map((m) => m.name));
    expect(await migrationsTableLayout(ours.url)).toEqual(await migrationsTableLayout(theirs.url));
    expect(await migrate(theirs.url)).toEqual([]);
  });
});

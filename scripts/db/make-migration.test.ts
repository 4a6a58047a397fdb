import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqlitePath } from "../../server/db/client";
import { readMigrations } from "../../server/db/migration-files";
import { migrate } from "../../server/db/migrate";
import { type FreshStore, freshStore } from "../../testkit/server/databases";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A copy of the project's prisma/ folder to change the models in; the script works on the folder under its
 * working directory.
 */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-make-migration-"));
  mkdirSync(join(dir, "prisma/postgres"), { recursive: true });
  cpSync(join(root, "prisma/schema.prisma"), join(dir, "prisma/schema.prisma"));
  cpSync(join(root, "prisma/migrations"), join(dir, "prisma/migrations"), { recursive: true });
  cpSync(join(root, "prisma/postgres/migrations"), join(dir, "prisma/postgres/migrations"), { recursive: true });
  return dir;
}

function makeMigration(cwd: string, name: string, pgUrl: string) {
  return promisify(execFile)(
    join(root, "node_modules/.bin/tsx"),
    [join(root, "scripts/db/make-migration.ts"), name, "--pg-url", pgUrl],
    { cwd, timeout: 60_000 },
  );
}

describe("npm run db:migration", () => {
  let dir: string;
  let sqlite: FreshStore;
  let pgShadowHost: FreshStore;
  let pgTarget: FreshStore;
  beforeEach(async () => {
    dir = sandbox();
    [sqlite, pgShadowHost, pgTarget] = await Promise.all([
      freshStore("sqlite"),
      freshStore("postgresql"),
      freshStore("postgresql"),
    ]);
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([sqlite.drop(), pgShadowHost.drop(), pgTarget.drop()]);
  });

  it("writes a migration for both stores that our runner applies without losing rows", async () => {
    const sqliteDir = join(dir, "prisma/migrations");
    const pgDir = join(dir, "prisma/postgres/migrations");
    await migrate(sqlite.url, { dir: sqliteDir });
    const db = new Database(sqlitePath(sqlite.url));
    db.exec(`INSERT INTO "Cluster" ("id", "name", "settings", "updatedAt") VALUES ('c1', 'edge', '{}', 0);
      INSERT INTO "Zone" ("id", "clusterId", "seq", "name", "networks", "updatedAt") VALUES ('z1', 'c1', 1, 'lan', '[]', 0);`);
    db.close();

    // making a column optional is a table rebuild on SQLite (new_Cluster, copy, DROP "Cluster", rename)
    const schemaPath = join(dir, "prisma/schema.prisma");
    const schema = readFileSync(schemaPath, "utf8");
    const changed = schema.replace(
      /(model Cluster \{[^}]*?)description\s+String\s+@default\(""\)/,
      "$1description String?",
    );
    expect(changed).not.toBe(schema);
    writeFileSync(schemaPath, changed);

    const { stdout } = await makeMigration(dir, "optional_description", pgShadowHost.url);
    expect(stdout).toMatch(/regenerated prisma\/postgres\/schema.prisma/);
    const added = (d: string) => readMigrations(d).filter((m) => m.name.endsWith("_optional_description"));
    const [sqliteMigration] = added(sqliteDir);
    const [pgMigration] = added(pgDir);
    expect(sqliteMigration?.sql).toMatch(/CREATE TABLE "new_Cluster"/);
    expect(pgMigration?.sql).toMatch(/ALTER TABLE "Cluster" ALTER COLUMN "description" DROP NOT NULL/);
    expect(sqliteMigration?.name).toBe(pgMigration?.name);
    expect(readFileSync(join(dir, "prisma/postgres/schema.prisma"), "utf8")).toContain("description String?");

    expect(await migrate(sqlite.url, { dir: sqliteDir })).toEqual([sqliteMigration?.name]);
    const after = new Database(sqlitePath(sqlite.url));
    try {
      // the zone hangs off the rebuilt cluster table with ON DELETE CASCADE
      expect(after.prepare(`SELECT "id", "clusterId" FROM "Zone"`).all()).toEqual([{ id: "z1", clusterId: "c1" }]);
    } finally {
      after.close();
    }
    expect(await migrate(pgTarget.url, { dir: pgDir })).toHaveLength(readdirSync(pgDir).length - 1);

    // and once written, the next run finds nothing to do
    const again = await makeMigration(dir, "nothing", pgShadowHost.url);
    expect(again.stdout).toMatch(/nothing to write/);
  }, 90_000);
});

import { describe, expect, it } from "vitest";
import { migrationChecksum, type MigrationFile } from "./migration-files";
import { type AppliedMigration, MigrationRefused, planMigrations } from "./migration-plan";

const file = (name: string, sql = `-- ${name}\nSELECT 1;\n`): MigrationFile => ({
  name,
  sql,
  checksum: migrationChecksum(sql),
});
const a = file("20260101000000_a");
const b = file("20260102000000_b");
const c = file("20260103000000_c");
const done = (m: MigrationFile, over: Partial<AppliedMigration> = {}): AppliedMigration => ({
  migrationName: m.name,
  checksum: m.checksum,
  finishedAt: "2026-01-01T00:00:00.000+00:00",
  rolledBackAt: null,
  ...over,
});

describe("planMigrations", () => {
  it("applies everything to an empty history, in order", () => {
    expect(planMigrations([a, b, c], []).map((m) => m.name)).toEqual([a.name, b.name, c.name]);
  });

  it("leaves out what is applied, including a migration merged in behind later ones", () => {
    expect(planMigrations([a, b, c], [done(a), done(c)]).map((m) => m.name)).toEqual([b.name]);
    expect(planMigrations([a, b, c], [done(a), done(b), done(c)])).toEqual([]);
  });

  it("refuses when an applied migration's file changed", () => {
    const edited = { ...b, sql: `${b.sql}ALTER TABLE x ADD y INT;\n` };
    expect(() => planMigrations([a, edited], [done(a), done(b)])).toThrow(MigrationRefused);
    expect(() => planMigrations([a, edited], [done(a), done(b)])).toThrow(/20260102000000_b was modified/);
  });

  it("accepts a file whose only change is CRLF line endings, as Prisma does", () => {
    const crlf = { ...a, sql: a.sql.replace(/\n/g, "\r\n") };
    expect(planMigrations([crlf, b], [done(a)]).map((m) => m.name)).toEqual([b.name]);
  });

  it("refuses a migration that started and never finished", () => {
    expect(() => planMigrations([a, b], [done(a), done(b, { finishedAt: null })])).toThrow(/never finished/);
  });

  it("ignores rows marked rolled back, and applies the migration again", () => {
    const rows = [done(a), done(b, { finishedAt: null, rolledBackAt: "2026-01-02T00:00:00.000+00:00" })];
    expect(planMigrations([a, b], rows).map((m) => m.name)).toEqual([b.name]);
  });

  it("refuses a database migrated by a newer version", () => {
    expect(() => planMigrations([a], [done(a), done(b)])).toThrow(/does not include/);
  });
});

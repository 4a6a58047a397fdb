import { checksumMatches, type MigrationFile } from "./migration-files";

/** One row of Prisma's `_prisma_migrations` table, as far as deciding what to apply needs it. */
export interface AppliedMigration {
  migrationName: string;
  checksum: string;
  finishedAt: Date | string | null;
  rolledBackAt: Date | string | null;
}

export class MigrationRefused extends Error {
  override name = "MigrationRefused";
}

/**
 * Which migrations still have to run, or why the database must not be touched.
 *
 * Refuses, like `prisma migrate deploy`, when a recorded migration failed and was never resolved, and when an
 * applied migration's file has changed since. Also refuses when the database has a migration this build does not
 * ship: it was migrated by a newer console, and this older code would run against a schema it does not know.
 * Rows marked rolled back are history only.
 */
export function planMigrations(files: readonly MigrationFile[], rows: readonly AppliedMigration[]): MigrationFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const done = new Set<string>();
  for (const row of rows) {
    if (row.rolledBackAt !== null) continue;
    if (row.finishedAt === null) {
      throw new MigrationRefused(
        `migration ${row.migrationName} started but never finished; repair the database, then mark it with ` +
          "`prisma migrate resolve --applied` or `--rolled-back`",
      );
    }
    const file = byName.get(row.migrationName);
    if (!file) {
      throw new MigrationRefused(
        `the database has migration ${row.migrationName}, which this version does not include; ` +
          "it was migrated by a newer version",
      );
    }
    if (!checksumMatches(file.sql, row.checksum)) {
      throw new MigrationRefused(
        `migration ${row.migrationName} was modified after it was applied (checksum differs); ` +
          "restore its migration.sql and put the change in a new migration",
      );
    }
    done.add(row.migrationName);
  }
  return files.filter((f) => !done.has(f.name));
}

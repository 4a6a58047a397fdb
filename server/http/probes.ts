import { type Db, databaseUrlOf, providerOf } from "../db/client";
import { MIGRATIONS_DIRS, readMigrations } from "../db/migration-files";

/**
 * Probes for load balancers, orchestrators and systemd: /api/healthz says the process answers;
 * /api/readyz says this replica can serve (its database answers and has every migration this
 * build ships). Neither needs a session, and neither says more than ready or why not.
 */

const noStore = { "cache-control": "no-store" };

export function handleHealthz(): Response {
  return Response.json({ status: "ok" }, { headers: noStore });
}

export interface Readiness {
  ready: boolean;
  /** what is missing, in words; empty when ready */
  problems: string[];
}

/** Applied migration names as `_prisma_migrations` records them (finished, not rolled back). */
async function appliedMigrations(db: Db): Promise<Set<string>> {
  const rows = await db.$queryRawUnsafe<Array<{ migration_name: string }>>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  return new Set(rows.map((r) => r.migration_name));
}

export async function checkReadiness(db: Db, expected?: readonly string[]): Promise<Readiness> {
  let applied: Set<string>;
  try {
    applied = await appliedMigrations(db);
  } catch (e) {
    return { ready: false, problems: [`the database does not answer: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const url = databaseUrlOf(db);
  const names = expected ?? (url ? readMigrations(MIGRATIONS_DIRS[providerOf(url)]).map((m) => m.name) : []);
  const missing = names.filter((n) => !applied.has(n));
  return missing.length === 0
    ? { ready: true, problems: [] }
    : { ready: false, problems: [`migrations not applied: ${missing.join(", ")}`] };
}

export async function handleReadyz(db: Db): Promise<Response> {
  const r = await checkReadiness(db);
  return Response.json(r.ready ? { status: "ready" } : { status: "not ready", problems: r.problems }, {
    status: r.ready ? 200 : 503,
    headers: noStore,
  });
}

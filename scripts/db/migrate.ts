/**
 * npm run db:migrate [-- --url <DATABASE_URL>]
 *
 * Applies pending migrations to the console's database (DATABASE_URL, default file:./data/gatehouse.db), exactly as
 * the console does at start. Useful before a rolling upgrade, or to check a database without starting the console.
 */
import { parseArgs } from "node:util";
import { redactUrl } from "../../server/db/client";
import { migrate } from "../../server/db/migrate";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" } } });
  const url = values.url ?? (await import("../../server/env")).env.DATABASE_URL;
  const applied = await migrate(url, { log: (m) => console.log(m) });
  console.log(
    applied.length === 0
      ? `${redactUrl(url)}: up to date`
      : `${redactUrl(url)}: applied ${applied.length} migration(s)`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../postgres";
import type { DbProvider } from "../../server/db/client";

export interface FreshStore {
  url: string;
  drop(): Promise<void>;
}

/** An empty database of either kind: a SQLite file in a temp dir, or a new database in the test cluster. */
export async function freshStore(provider: DbProvider): Promise<FreshStore> {
  if (provider === "postgresql") {
    const db = await createTestDatabase();
    return { url: db.url, drop: db.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-sqlite-"));
  return {
    url: `file:${join(dir, "test.db")}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const PROVIDERS: readonly DbProvider[] = ["sqlite", "postgresql"];

import type { Prisma } from "../../prisma/generated/sqlite/client";
import { env } from "../env";
import { createDb, type Db, type DbProvider, providerOf } from "./client";

/** The console's database handle: one client per process, kept across Next.js dev reloads. */
const globalForDb = globalThis as unknown as { gatehouseDb?: Db };

export const dbProvider: DbProvider = providerOf(env.DATABASE_URL);

export function getDb(): Db {
  globalForDb.gatehouseDb ??= createDb(env.DATABASE_URL);
  return globalForDb.gatehouseDb;
}

export type { Db, DbProvider };
/** A Prisma interactive-transaction client. */
export type Tx = Prisma.TransactionClient;

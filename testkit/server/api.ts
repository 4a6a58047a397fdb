import { TRPCError } from "@trpc/server";
import { createDb, type Db, type DbProvider } from "../../server/db/client";
import { migrate } from "../../server/db/migrate";
import { freshStore } from "./databases";
import type { RequestMeta } from "../../server/services/audit/record";
import { hashPassword } from "../../server/services/auth/password";
import type { Role } from "../../server/services/auth/roles";
import type { Context } from "../../server/trpc/context";
import { createCaller } from "../../server/trpc/root";

/** A migrated store with one user per role, and tRPC callers acting as each of them. */
export interface ApiHarness {
  db: Db;
  users: Record<Role, { id: string; username: string }>;
  as(role: Role | null, opts?: { csrf?: string | null; sameOrigin?: boolean }): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

export const TEST_META: RequestMeta = { ip: "127.0.0.1", userAgent: "vitest", requestId: "test" };
export const TEST_PASSWORD = "correct horse battery";
const CSRF = "csrf-test-token";

/** Who a test caller is signed in as: null for nobody. */
export interface CallerUser {
  id: string;
  name: string;
  role: Role;
}

/**
 * A tRPC caller as the console builds it for a request: signed in as `user` (or nobody), from the
 * same origin, with the session's CSRF token in its header unless `opts` says otherwise.
 */
export function callerAs(db: Db, user: CallerUser | null, opts: { csrf?: string | null; sameOrigin?: boolean } = {}) {
  const ctx: Context = {
    db,
    session: user
      ? { sessionId: `s-${user.role}`, csrfToken: CSRF, userId: user.id, username: user.name, role: user.role }
      : null,
    meta: TEST_META,
    csrfHeader: opts.csrf === undefined ? CSRF : opts.csrf,
    sameOrigin: opts.sameOrigin ?? true,
    resHeaders: new Headers(),
  };
  return createCaller(ctx);
}

/** The error of class `type` a call fails with; throws when it succeeds or fails otherwise. */
export async function failureOf<E extends Error>(
  p: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

/** The TRPCError a call fails with; throws when it succeeds or fails otherwise. */
export const errorOf = (p: Promise<unknown>): Promise<TRPCError> => failureOf(p, TRPCError);

export async function apiHarness(provider: DbProvider): Promise<ApiHarness> {
  const store = await freshStore(provider);
  await migrate(store.url);
  const db = createDb(store.url);
  const passwordHash = await hashPassword(TEST_PASSWORD);
  const users = {} as ApiHarness["users"];
  for (const role of ["viewer", "operator", "admin"] as const) {
    const u = await db.user.create({
      data: { username: role, usernameKey: role, passwordHash, role },
      select: { id: true, username: true },
    });
    users[role] = u;
  }
  return {
    db,
    users,
    as(role, opts = {}) {
      return callerAs(db, role ? { id: users[role].id, name: role, role } : null, opts);
    },
    async close() {
      await db.$disconnect();
      await store.drop();
    },
  };
}

/** Row counts of every table: equal before and after a refused call means nothing was half-written. */
export async function tableCounts(db: Db) {
  const [users, clusters, isps, pools, zones, rules, revisions, gateways, audit, sessions] = await Promise.all([
    db.user.count(),
    db.cluster.count(),
    db.isp.count(),
    db.pool.count(),
    db.zone.count(),
    db.rule.count(),
    db.revision.count(),
    db.gateway.count(),
    db.auditEvent.count(),
    db.session.count(),
  ]);
  return { users, clusters, isps, pools, zones, rules, revisions, gateways, audit, sessions };
}

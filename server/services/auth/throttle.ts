import { RateLimiterPrisma, RateLimiterRes } from "rate-limiter-flexible";
import type { Db } from "../../db";
import { AppError } from "../../errors";
import { usernameKey } from "./username";

/**
 * Sign-in protection after rate-limiter-flexible's login-endpoint recipe, with counters in the database
 * (its Prisma store, table LoginLimit) so that every console replica sharing the database sees the same counts:
 *
 * - per (user name, address): 5 failures in a row lock that pair for 15 minutes; a successful sign-in from the
 *   pair clears its count. A stranger elsewhere therefore never locks the owner out.
 * - per address: 100 failures a day lock the address for a day (one address guessing many names).
 * - per user name, from anywhere: after 10 failures within an hour every further attempt for the name is slowed
 *   down (up to 5 s) but still checked, so the right password keeps working from any address.
 *
 * The pair and address counts are taken before the password is checked, in one atomic increment each, so
 * parallel requests cannot all pass the check before the first failure is recorded: of 40 parallel attempts
 * at most 5 reach the password check.
 */
export const LOGIN_LIMITS = {
  pair: { points: 5, duration: 24 * 3600, blockDuration: 15 * 60 },
  address: { points: 100, duration: 24 * 3600, blockDuration: 24 * 3600 },
  name: { slowAfter: 10, duration: 3600, stepMs: 500, maxDelayMs: 5_000 },
} as const;

const PREFIX = { pair: "login_pair", address: "login_ip", name: "login_name" } as const;

interface Limiters {
  pair: RateLimiterPrisma;
  address: RateLimiterPrisma;
  name: RateLimiterPrisma;
}

// one set per database handle: tests open several
const limiters = new WeakMap<Db, Limiters>();

function limitersFor(db: Db): Limiters {
  let l = limiters.get(db);
  if (!l) {
    const common = { storeClient: db, tableName: "loginLimit" };
    l = {
      pair: new RateLimiterPrisma({ ...common, keyPrefix: PREFIX.pair, ...LOGIN_LIMITS.pair }),
      address: new RateLimiterPrisma({ ...common, keyPrefix: PREFIX.address, ...LOGIN_LIMITS.address }),
      // counts only; it never refuses (points is far above anything reachable)
      name: new RateLimiterPrisma({
        ...common,
        keyPrefix: PREFIX.name,
        points: 1_000_000_000,
        duration: LOGIN_LIMITS.name.duration,
      }),
    };
    limiters.set(db, l);
  }
  return l;
}

// the address goes last: names cannot contain '/', so one name's keys never match another's prefix
const pairKey = (username: string, ip: string) => `${usernameKey(username)}/${ip}`;

function rateLimited(msBeforeNext: number): AppError {
  const minutes = Math.max(1, Math.ceil(msBeforeNext / 60_000));
  return new AppError(
    "RATE_LIMITED",
    `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
  );
}

/**
 * Takes one attempt from the pair's and the address's allowance before the password is checked; refuses when
 * either is used up. The attempt counts as a failure unless `attemptSucceeded` gives it back.
 */
export async function reserveAttempt(db: Db, username: string, ip: string): Promise<void> {
  const l = limitersFor(db);
  const results = await Promise.allSettled([l.pair.consume(pairKey(username, ip)), l.address.consume(ip)]);
  const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (refused.length === 0) return;
  const limits = refused.filter((e): e is RateLimiterRes => e instanceof RateLimiterRes);
  // a store failure is not a reason to let the attempt through
  if (limits.length < refused.length) throw refused.find((e) => !(e instanceof RateLimiterRes));
  throw rateLimited(Math.max(...limits.map((r) => r.msBeforeNext)));
}

/** How long to hold an attempt for this name back: 0 until the name has had many failures from anywhere. */
export async function slowDownMs(db: Db, username: string): Promise<number> {
  const res = await limitersFor(db).name.get(usernameKey(username));
  const over = (res?.consumedPoints ?? 0) - LOGIN_LIMITS.name.slowAfter;
  return over < 0 ? 0 : Math.min(LOGIN_LIMITS.name.maxDelayMs, (over + 1) * LOGIN_LIMITS.name.stepMs);
}

export async function attemptFailed(db: Db, username: string): Promise<void> {
  await limitersFor(db).name.penalty(usernameKey(username));
}

/** The right password from this address: the pair starts over and the attempt does not count for the address. */
export async function attemptSucceeded(db: Db, username: string, ip: string): Promise<void> {
  const l = limitersFor(db);
  await Promise.all([l.pair.delete(pairKey(username, ip)), l.address.reward(ip)]);
}

/** For an admin's reset: every count and lock of the name, from every address. */
export async function clearLoginLimits(db: Db, username: string): Promise<void> {
  const key = usernameKey(username);
  await db.loginLimit.deleteMany({
    where: { OR: [{ key: { startsWith: `${PREFIX.pair}:${key}/` } }, { key: `${PREFIX.name}:${key}` }] },
  });
}

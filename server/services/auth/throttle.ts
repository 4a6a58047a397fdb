import type { Db } from "../../db";
import { AppError } from "../../errors";

/** Failed logins allowed per window before further attempts are refused until the window ends. */
export const THROTTLE = {
  windowMs: 15 * 60_000,
  maxPerUser: 5,
  maxPerIp: 20,
} as const;

const keysFor = (username: string, ip: string) => [
  { key: `user:${username.toLowerCase()}`, max: THROTTLE.maxPerUser },
  { key: `ip:${ip}`, max: THROTTLE.maxPerIp },
];

export async function assertNotThrottled(db: Db, username: string, ip: string, now = new Date()): Promise<void> {
  const rows = await db.loginThrottle.findMany({
    where: { key: { in: keysFor(username, ip).map((k) => k.key) } },
  });
  for (const row of rows) {
    if (row.lockedUntil && row.lockedUntil > now) {
      const minutes = Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 60_000);
      throw new AppError(
        "RATE_LIMITED",
        `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
      );
    }
  }
}

export async function recordFailure(db: Db, username: string, ip: string, now = new Date()): Promise<void> {
  for (const { key, max } of keysFor(username, ip)) {
    await db.$transaction(async (tx) => {
      const row = await tx.loginThrottle.findUnique({ where: { key } });
      const fresh = !row || now.getTime() - row.windowStart.getTime() > THROTTLE.windowMs;
      const failures = fresh ? 1 : row.failures + 1;
      const windowStart = fresh ? now : row.windowStart;
      const lockedUntil = failures >= max ? new Date(windowStart.getTime() + THROTTLE.windowMs) : null;
      await tx.loginThrottle.upsert({
        where: { key },
        create: { key, failures, windowStart, lockedUntil },
        update: { failures, windowStart, lockedUntil },
      });
    });
  }
}

export async function clearUserFailures(db: Db, username: string): Promise<void> {
  await db.loginThrottle.deleteMany({ where: { key: `user:${username.toLowerCase()}` } });
}

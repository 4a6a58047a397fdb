/** UTC yyyymmddHHMMSS, the stamp `prisma migrate dev` puts in front of a migration's name. */
export function migrationStamp(d: Date): string {
  return d.toISOString().replace(/\D/g, "").slice(0, 14);
}

/** A stamp later than every existing one, so the new migration sorts last even if the clock is behind. */
export function nextStamp(now: Date, existing: readonly string[]): string {
  let stamp = migrationStamp(now);
  const latest = existing
    .map((n) => n.slice(0, 14))
    .sort()
    .at(-1);
  if (latest && stamp <= latest) stamp = String(BigInt(latest) + 1n);
  return stamp;
}

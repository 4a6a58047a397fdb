/**
 * Exponential backoff with "equal jitter": the wait doubles per failed attempt up to a cap, and
 * a random half of it is jittered so that many agents cut off by the same console outage do not
 * come back in lockstep, while no wait is ever shorter than half the nominal one.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Console unreachable or failing. */
export const CONSOLE_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };
/** An apply that failed is tried again on this schedule until it works or a new spec arrives. */
export const APPLY_RETRY_BACKOFF: BackoffPolicy = { baseMs: 5_000, capMs: 5 * 60_000 };

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(nominal / 2 + (r * nominal) / 2);
}

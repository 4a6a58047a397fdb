/**
 * How the console retries an alert that did not go out: a bounded number of attempts, each with
 * its own timeout, waiting longer after each failure (exponential backoff with a cap). A message
 * still undelivered after the last attempt is marked failed and says why on its channel.
 */

export const MAX_ATTEMPTS = 5;
/** one attempt's limit, connection and answer included */
export const ATTEMPT_TIMEOUT_MS = 10_000;
export const FIRST_RETRY_MS = 5_000;
export const MAX_RETRY_MS = 5 * 60_000;

/** The wait after failed attempt number `attempt` (1-based), or null when that was the last one. */
export function retryDelayMs(attempt: number, first = FIRST_RETRY_MS, max = MAX_RETRY_MS): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  return Math.min(max, first * 2 ** (attempt - 1));
}

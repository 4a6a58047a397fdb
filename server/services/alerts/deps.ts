import { env } from "../../env";
import { FIRST_RETRY_MS, MAX_RETRY_MS } from "../../../core/alerts/retry";

/**
 * What the alert services take from the outside world, in one place so tests can hand in their
 * own: the console's secret key (which seals webhook URLs and SMTP passwords) and the retry waits.
 */
export interface AlertDeps {
  /** GATEHOUSE_SECRET_KEY as configured (unparsed); undefined when unset */
  secretKeyText(): string | undefined;
  firstRetryMs: number;
  maxRetryMs: number;
}

let override: Partial<AlertDeps> | null = null;

/** For tests: replaces parts of the defaults until reset with null. */
export function overrideAlertDeps(parts: Partial<AlertDeps> | null): void {
  override = parts;
}

export function alertDeps(): AlertDeps {
  return {
    secretKeyText: () => env.GATEHOUSE_SECRET_KEY,
    firstRetryMs: FIRST_RETRY_MS,
    maxRetryMs: MAX_RETRY_MS,
    ...override,
  };
}

import pino from "pino";

/**
 * The agent's structured logs: JSON lines on stderr (journald keeps them), so stdout stays free
 * for what a command prints (`render` prints the ruleset there).
 */
export type Logger = pino.Logger;

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = "info"): Logger {
  return pino(
    { level, base: { service: "gatehouse-agent" }, timestamp: pino.stdTimeFunctions.isoTime },
    // synchronous: the last lines before an exit must not be lost
    pino.destination({ fd: 2, sync: true }),
  );
}

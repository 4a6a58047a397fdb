import { ConsoleError } from "../client/console";
import type { Logger } from "../log";
import {
  type HealthReport,
  HEALTH_REPORT_MS,
  type IspHealth,
  MAX_EVENTS_PER_REPORT,
  zFailoverEvent,
  zHealthAck,
} from "../../core/protocol/health-report";

/**
 * Sends the health report about once a second, and at once when asked (after a switch or a
 * state change). Failover events wait in a bounded queue until the console says it recorded
 * them, so a console outage delays them but does not lose them (up to the queue's size; the
 * oldest go first when it overflows, with a log line).
 */

export interface ReporterDeps {
  post: (report: HealthReport, signal: AbortSignal) => Promise<unknown>;
  /** builds the report's body, without events */
  build: () => Omit<HealthReport, "events">;
  log: Logger;
  intervalMs?: number;
  maxQueued?: number;
}

type Event = HealthReport["events"][number];

export class HealthReporter {
  private readonly queue: Event[] = [];
  private wake: (() => void) | null = null;
  private kicked = false;
  private unsupported = false;

  constructor(private readonly deps: ReporterDeps) {}

  /** Queues an event for the next report. */
  event(e: unknown): void {
    const parsed = zFailoverEvent.safeParse(e);
    if (!parsed.success) {
      this.deps.log.error({ issues: parsed.error.issues.slice(0, 3) }, "dropped a malformed failover event");
      return;
    }
    this.queue.push(parsed.data);
    const max = this.deps.maxQueued ?? 1000;
    if (this.queue.length > max) {
      const dropped = this.queue.splice(0, this.queue.length - max);
      this.deps.log.warn(
        { dropped: dropped.length },
        "the console has been unreachable too long: oldest failover events dropped",
      );
    }
    this.kick();
  }

  /** Sends a report now (or right after the one on its way). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  pending(): number {
    return this.queue.length;
  }

  async run(signal: AbortSignal): Promise<void> {
    const every = this.deps.intervalMs ?? HEALTH_REPORT_MS;
    while (!signal.aborted) {
      this.kicked = false;
      await this.send(signal);
      if (this.kicked || signal.aborted) continue;
      // a console without the health endpoint gets a report only now and then
      const wait = this.unsupported ? 60_000 : every;
      await new Promise<void>((resolve) => {
        // each wait has its own timer, cleared when a kick ends the wait early: a stale timer
        // firing later must not end (or unhook) a later wait
        const done = () => {
          if (this.wake === done) this.wake = null;
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  private async send(signal: AbortSignal): Promise<void> {
    const events = this.queue.slice(0, MAX_EVENTS_PER_REPORT);
    let body: HealthReport;
    try {
      body = { ...this.deps.build(), events };
    } catch (e) {
      this.deps.log.error({ err: e }, "cannot build the health report");
      return;
    }
    const started = performance.now();
    try {
      const ack = zHealthAck.safeParse(await this.deps.post(body, signal));
      this.deps.log.debug(
        { ms: Math.round(performance.now() - started), running: body.running, events: events.length },
        "health report sent",
      );
      if (!ack.success) {
        this.deps.log.warn("the console's health answer is not what this agent expects");
        return;
      }
      this.unsupported = false;
      const recorded = new Set(ack.data.recorded);
      for (let i = this.queue.length - 1; i >= 0; i--) {
        if (recorded.has((this.queue[i] as Event).id)) this.queue.splice(i, 1);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ConsoleError && e.status === 404) {
        if (!this.unsupported)
          this.deps.log.warn("the console does not take health reports; it may be older than the agent");
        this.unsupported = true;
        return;
      }
      this.deps.log.debug({ err: e instanceof Error ? e.message : String(e) }, "health report failed");
    }
  }
}

/** The per-ISP part of Gateway.health as the console stores it: keyed by ISP id. */
export function healthById(isps: readonly IspHealth[]): Record<string, IspHealth> {
  return Object.fromEntries(isps.map((i) => [i.ispId, i]));
}

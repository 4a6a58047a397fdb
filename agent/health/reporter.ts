import { ConsoleError } from "../client/console";
import type { Logger } from "../log";
import {
  type HealthReport,
  HEALTH_REPORT_MS,
  HEALTH_SAMPLE_MS,
  type HealthSample,
  type IspHealth,
  MAX_EVENTS_PER_REPORT,
  MAX_SAMPLE_BYTES_PER_REPORT,
  MAX_SAMPLES_PER_REPORT,
  zFailoverEvent,
  zHealthAck,
} from "../../core/protocol/health-report";

/**
 * Sends the health report every few seconds (HEALTH_REPORT_MS), and at once when asked (after a
 * switch, a load or a link state change). In between it takes a sample of the links' figures
 * every second, which the next report carries: the console's history keeps a sample a second
 * without a request a second. Failover events wait in a bounded queue until the console says it
 * recorded them, so a console outage delays them but does not lose them (up to the queue's size;
 * the oldest go first when it overflows, with a log line); samples likewise, up to a minute's.
 */

export interface ReporterDeps {
  post: (report: HealthReport, signal: AbortSignal) => Promise<unknown>;
  /** builds the report's body, without events and samples */
  build: () => Omit<HealthReport, "events" | "samples">;
  /** one second's figures; absent: no samples between reports */
  sample?: () => HealthSample;
  log: Logger;
  /** between two reports when nothing asks for one sooner */
  intervalMs?: number;
  /** between two samples */
  sampleMs?: number;
  maxQueued?: number;
}

type Event = HealthReport["events"][number];

export class HealthReporter {
  private readonly queue: Event[] = [];
  private readonly samples: HealthSample[] = [];
  /** the samples' JSON sizes, to keep a report's body within the agent API's limit */
  private readonly sampleBytes: number[] = [];
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

  /** Samples waiting for a report. */
  sampleCount(): number {
    return this.samples.length;
  }

  async run(signal: AbortSignal): Promise<void> {
    const sampleMs = this.deps.sampleMs ?? HEALTH_SAMPLE_MS;
    while (!signal.aborted) {
      this.kicked = false;
      const sentAt = performance.now();
      await this.send(signal);
      // a console without the health endpoint gets a report only now and then
      const every = this.unsupported ? 60_000 : (this.deps.intervalMs ?? HEALTH_REPORT_MS);
      // a sample a second until the next report is due (that report is its second's sample)
      for (;;) {
        if (this.kicked || signal.aborted) break;
        const left = every - (performance.now() - sentAt);
        if (left <= 0) break;
        await this.wait(Math.min(sampleMs, left), signal);
        if (this.kicked || signal.aborted) break;
        if (every - (performance.now() - sentAt) > sampleMs / 2) this.takeSample();
      }
    }
  }

  private takeSample(): void {
    if (this.deps.sample === undefined || this.unsupported) return;
    try {
      const sample = this.deps.sample();
      this.samples.push(sample);
      this.sampleBytes.push(JSON.stringify(sample).length);
    } catch (e) {
      this.deps.log.error({ err: e }, "cannot take a health sample");
      return;
    }
    // the oldest go first: beyond a minute's worth, or beyond what a report may carry (many ISPs)
    let bytes = this.sampleBytes.reduce((a, b) => a + b, 0);
    let drop = 0;
    while (
      drop < this.samples.length &&
      (this.samples.length - drop > MAX_SAMPLES_PER_REPORT || bytes > MAX_SAMPLE_BYTES_PER_REPORT)
    ) {
      bytes -= this.sampleBytes[drop] as number;
      drop++;
    }
    this.dropSamples(drop);
  }

  private dropSamples(n: number): void {
    this.samples.splice(0, n);
    this.sampleBytes.splice(0, n);
  }

  /** Waits `ms`, or less when a kick or the end of the run comes first. */
  private wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      // each wait has its own timer, cleared when a kick ends the wait early: a stale timer
      // firing later must not end (or unhook) a later wait
      const done = () => {
        if (this.wake === done) this.wake = null;
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private async send(signal: AbortSignal): Promise<void> {
    const events = this.queue.slice(0, MAX_EVENTS_PER_REPORT);
    // the samples taken so far; one taken while this report is on its way waits for the next
    const samples = this.samples.slice();
    let body: HealthReport;
    try {
      body = { ...this.deps.build(), events, samples };
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
      // those it carried (the oldest; some may have made room for newer ones meanwhile)
      const carried = new Set(samples);
      let n = 0;
      while (n < this.samples.length && carried.has(this.samples[n] as HealthSample)) n++;
      this.dropSamples(n);
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

import pino from "pino";
import { describe, expect, it } from "vitest";
import { ConsoleError } from "../client/console";
import { type HealthReport, MAX_SAMPLE_BYTES_PER_REPORT } from "../../core/protocol/health-report";
import { HealthReporter } from "./reporter";

const body = (): Omit<HealthReport, "events" | "samples"> => ({
  agentVersion: "1.0.0",
  at: new Date().toISOString(),
  running: null,
  lastLoad: null,
  isps: [],
  poolUsage: null,
  conntrackTotal: null,
});

const event = (id: string) => ({
  id,
  kind: "failover" as const,
  ispId: "a",
  ispName: "a",
  fromIspId: null,
  toIspId: "b",
  mode: "automatic" as const,
  reason: "down",
  at: new Date().toISOString(),
  revision: 1,
  failoverEpoch: 0,
  timings: null,
  ok: true,
  error: "",
});

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running reporter whose posts record when they were sent. */
function startReporter(intervalMs: number) {
  const sent: number[] = [];
  const r = new HealthReporter({
    post: async () => {
      sent.push(Date.now());
      return { ok: true, recorded: [] };
    },
    build: body,
    log: pino({ level: "silent" }),
    intervalMs,
  });
  const stop = new AbortController();
  return { sent, r, stop, running: r.run(stop.signal) };
}

describe("health reporter", () => {
  it("sends at once on every kick, however many waits came before", async () => {
    const { sent, r, stop, running } = startReporter(60_000);
    await tick(30);
    for (let i = 0; i < 5; i++) {
      const kickedAt = Date.now();
      r.kick();
      await tick(40);
      expect(sent.at(-1) ?? 0, `kick ${i}`).toBeGreaterThanOrEqual(kickedAt);
    }
    expect(sent).toHaveLength(6);
    stop.abort();
    await running;
  });

  it("a kick is not lost to the timer of a wait that a previous kick ended", async () => {
    const { sent, r, stop, running } = startReporter(300);
    await tick(250);
    r.kick(); // ends the first wait early; its timer would have fired at 300
    await tick(80);
    const kickedAt = Date.now();
    r.kick();
    await tick(60);
    expect(sent.filter((t) => t >= kickedAt)).toHaveLength(1);
    stop.abort();
    await running;
  });

  it("keeps failover events until the console says it recorded them", async () => {
    let fail = true;
    const posted: string[][] = [];
    const r = new HealthReporter({
      post: async (report) => {
        posted.push(report.events.map((e) => e.id));
        if (fail) throw new ConsoleError("unreachable", "down");
        return { ok: true, recorded: report.events.map((e) => e.id) };
      },
      build: body,
      log: pino({ level: "silent" }),
      intervalMs: 10,
    });
    const stop = new AbortController();
    const running = r.run(stop.signal);
    r.event(event("e1"));
    r.event({ ...event("e2"), kind: "bogus" });
    await tick(40);
    expect(r.pending()).toBe(1);
    fail = false;
    await tick(40);
    expect(r.pending()).toBe(0);
    expect(posted.filter((p) => p.includes("e1")).length).toBeGreaterThanOrEqual(2);
    expect(posted.flat()).not.toContain("e2");
    stop.abort();
    await running;
  });

  it("takes a sample each second between reports and sends them with the next, oldest first", async () => {
    const { reports, stop, running } = samplingReporter(250, 50);
    await tick(600);
    stop.abort();
    await running;
    // the first report goes at once; each later one carries the samples of its interval (one
    // every 50 ms, the report itself standing for the last)
    expect(reports.length).toBeGreaterThanOrEqual(3);
    const second = reports[1] as HealthReport;
    expect(second.samples.length).toBeGreaterThanOrEqual(2);
    expect(second.samples.length).toBeLessThanOrEqual(4);
    const rtts = reports.flatMap((p) => p.samples.map((x) => x.isps[0]?.rttMs));
    expect(rtts).toEqual(rtts.map((_, i) => i));
    for (const p of reports) for (const x of p.samples) expect(Date.parse(x.at)).toBeLessThanOrEqual(Date.parse(p.at));
  });

  it("sends the samples so far at once on a kick, keeps them while the console is away, and at most a minute's", async () => {
    const s = samplingReporter(60_000, 20);
    const { reports, r, stop, running } = s;
    await tick(110);
    r.kick();
    await tick(20);
    expect(reports).toHaveLength(2);
    expect(reports[1]?.samples.length).toBeGreaterThanOrEqual(2);
    expect(r.sampleCount()).toBeLessThanOrEqual(1);
    // the console is away: reports fail, samples pile up to a minute's worth (60), the oldest going
    s.failing = true;
    const taken = s.taken;
    for (let i = 0; i < 500 && s.taken < taken + 80; i++) await tick(20);
    expect(r.sampleCount()).toBe(60);
    r.kick();
    await tick(20);
    const failed = reports.at(-1) as HealthReport;
    expect(failed.samples).toHaveLength(60);
    // the newest 60, in order: the older ones went
    const kept = failed.samples.map((x) => x.isps[0]?.rttMs ?? -1);
    expect(kept).toEqual(kept.map((_, i) => (kept[0] ?? 0) + i));
    expect(kept[0]).toBeGreaterThan((reports[1]?.samples.length ?? 0) + 10);
    // back: the next report carries them, and they are gone
    s.failing = false;
    const before = reports.length;
    r.kick();
    await tick(20);
    expect(reports.length).toBe(before + 1);
    const back = reports.at(-1) as HealthReport;
    expect(back.samples.length).toBeGreaterThanOrEqual(60);
    expect(back.samples[0]?.isps[0]?.rttMs).toBeGreaterThanOrEqual(kept[0] ?? 0);
    expect(r.sampleCount()).toBeLessThanOrEqual(1);
    stop.abort();
    await running;
  });

  it("keeps the samples within what a report may carry when the gateway has very many ISPs", async () => {
    const isps = Array.from({ length: 250 }, (_, i) => sampleIsp(i));
    let n = 0;
    const r = new HealthReporter({
      post: async () => {
        throw new ConsoleError("unreachable", "down");
      },
      build: body,
      sample: () => ({ at: new Date(Date.now() + n++).toISOString(), isps }),
      log: pino({ level: "silent" }),
      intervalMs: 60_000,
      sampleMs: 5,
    });
    const stop = new AbortController();
    const running = r.run(stop.signal);
    await tick(500);
    const size = JSON.stringify(isps).length;
    expect(r.sampleCount()).toBeGreaterThan(0);
    expect(r.sampleCount() * size).toBeLessThanOrEqual(MAX_SAMPLE_BYTES_PER_REPORT);
    expect(r.sampleCount()).toBeLessThan(60);
    stop.abort();
    await running;
  });
});

function sampleIsp(n: number) {
  return { ispId: "a", state: "up" as const, lossPct: 0, rttMs: n, connections: null, backupIspId: null };
}

/** A running reporter whose samples count up (the n-th sample's latency is n) and whose posts are kept. */
function samplingReporter(intervalMs: number, sampleMs: number) {
  const state = {
    reports: [] as HealthReport[],
    failing: false,
    taken: 0,
    r: null as unknown as HealthReporter,
    stop: new AbortController(),
    running: Promise.resolve(),
  };
  state.r = new HealthReporter({
    post: async (report) => {
      state.reports.push(report);
      if (state.failing) throw new ConsoleError("unreachable", "down");
      return { ok: true, recorded: [] };
    },
    build: body,
    sample: () => ({ at: new Date().toISOString(), isps: [sampleIsp(state.taken++)] }),
    log: pino({ level: "silent" }),
    intervalMs,
    sampleMs,
  });
  state.running = state.r.run(state.stop.signal);
  return state;
}

import pino from "pino";
import { describe, expect, it } from "vitest";
import { ConsoleError } from "../client/console";
import type { HealthReport } from "../../core/protocol/health-report";
import { HealthReporter } from "./reporter";

const body = (): Omit<HealthReport, "events"> => ({
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
});

import { describe, expect, it } from "vitest";
import type { Sample } from "@/core/health/series";
import { EMPTY_ROLLUP, foldSample, rollupSeries } from "@/core/health/rollup";
import { chartRows, describeEvent, formatMs, keepWindow, rangeCaption, rollupChartRows } from "./present";

const sample = (id: number, gatewayId: string, at: number, l: number | null, r: number | null): Sample => ({
  id,
  gatewayId,
  at,
  isps: { a: { s: l === 100 ? "down" : "up", l, r, f: null } },
});

describe("health page helpers", () => {
  it("draws one line per gateway, by name, one point per bucket", () => {
    const names = new Map([
      ["g1", "gw1"],
      ["g2", "gw2"],
    ]);
    const samples = [sample(1, "g1", 0, 0, 1), sample(2, "g2", 1000, 10, 3), sample(3, "g1", 3500, 100, null)];
    expect(chartRows(samples, "a", names, "lossPct", 3000)).toEqual([
      { t: 0, gw1: 0, gw2: 10 },
      { t: 3000, gw1: 100 },
    ]);
    expect(chartRows(samples, "a", names, "rttMs", 3000)).toEqual([
      { t: 0, gw1: 1, gw2: 3 },
      { t: 3000, gw1: null },
    ]);
    expect(chartRows(samples, "b", names, "rttMs", 3000)).toEqual([]);
  });

  it("draws a longer range from rollups: means per gateway, up time in percent, gaps left open", () => {
    const names = new Map([
      ["g1", "gw1"],
      ["g2", "gw2"],
    ]);
    const up = { s: "up" as const, l: 10, r: 4, f: null };
    const down = { s: "down" as const, l: 100, r: null, f: "b" };
    const row = (gatewayId: string, at: number, samples: (typeof up | typeof down)[]) => ({
      gatewayId,
      ispId: "a",
      at,
      ...samples.reduce(foldSample, EMPTY_ROLLUP),
    });
    const series = rollupSeries(
      [row("g1", 0, [up, down, up, up]), row("g2", 0, [up]), row("g1", 120_000, [down]), row("gx", 0, [up])],
      60_000,
    );
    // gw1 sent nothing in the second minute: its line breaks there
    expect(rollupChartRows(series, "a", names, "upPct", 60_000)).toEqual([
      { t: 0, gw1: 75, gw2: 100 },
      { t: 60_000, gw1: null },
      { t: 120_000, gw1: 0 },
    ]);
    expect(rollupChartRows(series, "a", names, "rttMs", 60_000)).toEqual([
      { t: 0, gw1: 4, gw2: 4 },
      { t: 60_000, gw1: null },
      { t: 120_000, gw1: null },
    ]);
    expect(rangeCaption("20m")).toBe("last 20 minutes");
    expect(rangeCaption("24h")).toBe("last 24 hours, 5-minute means");
    expect(rangeCaption("90d")).toBe("last 90 days, 6-hour means");
  });

  it("keeps only the window's samples, each once, in time order", () => {
    const s = [sample(2, "g1", 5000, 0, 1), sample(1, "g1", 100, 0, 1), sample(2, "g1", 5000, 0, 1)];
    expect(keepWindow(s, 6000, 3000).map((x) => x.id)).toEqual([2]);
    expect(keepWindow(s, 6000, 10_000).map((x) => x.id)).toEqual([1, 2]);
  });

  it("words the timeline's events with their timings", () => {
    const names = new Map([
      ["a", "isp-a"],
      ["b", "isp-b"],
    ]);
    expect(
      describeEvent(
        {
          action: "isp.failover",
          actorType: "agent",
          actorName: "gw1",
          ispId: "a",
          details: {
            to: "b",
            reason: "2 probe rounds lost in a row",
            timings: { detectMs: 250, switchMs: 38, flushed: 2 },
          },
        },
        names,
      ),
    ).toBe(
      "gw1 failed isp-a over to isp-b on its own: 2 probe rounds lost in a row (noticed 250 ms after the last answer, switched in 38 ms, 2 connections flushed)",
    );
    expect(
      describeEvent(
        {
          action: "isp.failover_applied",
          actorType: "system",
          actorName: "system",
          ispId: "a",
          details: { outcome: "timed_out", notApplied: ["gw2"] },
        },
        names,
      ),
    ).toBe("Failover of isp-a timed out; not applied on gw2");
    expect(formatMs(1234)).toBe("1.2 s");
  });
});

import { describe, expect, it } from "vitest";
import {
  bucketStart,
  EMPTY_ROLLUP,
  foldSample,
  mergeRollups,
  RANGE_PLANS,
  RESOLUTIONS,
  type Rollup,
  type RollupRow,
  rollupSeries,
  toPoint,
} from "./rollup";
import type { SampleIsp } from "./series";

const up = (l: number, r: number, c?: number): SampleIsp => ({ s: "up", l, r, f: null, c });
const down: SampleIsp = { s: "down", l: 100, r: null, f: "isp-b", c: 3 };
const unknown: SampleIsp = { s: "unknown", l: null, r: null, f: null };

const fold = (samples: SampleIsp[], from: Rollup = EMPTY_ROLLUP) => samples.reduce(foldSample, from);

describe("health rollups", () => {
  it("keeps sums, counts and extremes per measure, so the point has means, extremes and shares", () => {
    const r = fold([up(0, 10, 100), up(20, 30, 300), down, unknown]);
    expect(r).toEqual({
      n: 4,
      up: 2,
      degraded: 0,
      down: 1,
      lossN: 3,
      lossSum: 120,
      lossMax: 100,
      rttN: 2,
      rttSum: 40,
      rttMin: 10,
      rttMax: 30,
      failedOver: 1,
      connN: 3,
      connSum: 403,
      connMax: 300,
    });
    expect(toPoint(60_000, r)).toEqual({
      t: 60_000,
      samples: 4,
      lossPct: 40,
      lossMaxPct: 100,
      rttMs: 20,
      rttMinMs: 10,
      rttMaxMs: 30,
      upFraction: 0.5,
      failedOverFraction: 0.25,
      connections: 403 / 3,
      connectionsMax: 300,
      state: "down",
    });
  });

  it("a bucket of unknown samples has no means and no up time, and says unknown", () => {
    const p = toPoint(0, fold([unknown, unknown]));
    expect(p).toMatchObject({ lossPct: null, rttMs: null, connections: null, upFraction: 0, state: "unknown" });
  });

  it("counts degraded as carrying traffic but reports it as the bucket's worst state", () => {
    const p = toPoint(0, fold([up(0, 1), { s: "degraded", l: 10, r: 5, f: null }]));
    expect(p.upFraction).toBe(1);
    expect(p.state).toBe("degraded");
  });

  it("puts a sample on a boundary into the bucket that starts there", () => {
    const minute = RESOLUTIONS.minute.bucketMs;
    expect(bucketStart(minute - 1, minute)).toBe(0);
    expect(bucketStart(minute, minute)).toBe(minute);
    expect(bucketStart(Date.UTC(2026, 0, 1, 13, 59, 59, 999), RESOLUTIONS.hour.bucketMs)).toBe(
      Date.UTC(2026, 0, 1, 13),
    );
    expect(bucketStart(Date.UTC(2026, 0, 1, 14), RESOLUTIONS.hour.bucketMs)).toBe(Date.UTC(2026, 0, 1, 14));
  });

  it("a restart folding into the stored row ends with what one uninterrupted fold gives", () => {
    const samples = [up(0, 10, 5), down, up(5, 12, 7), unknown, up(1, 9, 6)];
    const stored = JSON.parse(JSON.stringify(fold(samples.slice(0, 2)))) as Rollup;
    expect(fold(samples.slice(2), stored)).toEqual(fold(samples));
    // and rows of the same bucket written by two processes merge into the same
    expect(mergeRollups(fold(samples.slice(0, 3)), fold(samples.slice(3)))).toEqual(fold(samples));
  });

  it("regroups rows into coarser buckets and leaves gaps where nothing was folded", () => {
    const row = (gatewayId: string, at: number, r: Rollup): RollupRow => ({ gatewayId, ispId: "a", at, ...r });
    const m = 60_000;
    const rows = [
      row("g1", 0, fold([up(0, 10)])),
      row("g1", 4 * m, fold([up(10, 30)])),
      // a gap: nothing from 5 to 9 minutes (the gateway was off)
      row("g1", 10 * m, fold([down])),
      row("g1", 11 * m, EMPTY_ROLLUP),
      row("g2", 2 * m, fold([up(0, 1)])),
    ];
    const series = rollupSeries(rows, 5 * m);
    expect(series.a?.g1?.map((p) => [p.t, p.lossPct, p.rttMs, p.rttMaxMs, p.state])).toEqual([
      [0, 5, 20, 30, "up"],
      [10 * m, 100, null, null, "down"],
    ]);
    expect(series.a?.g2?.map((p) => p.t)).toEqual([0]);
  });

  it("each range reads a resolution fine enough and draws at most a few hundred points a line", () => {
    for (const [range, plan] of Object.entries(RANGE_PLANS)) {
      if (plan.source !== "samples") {
        const res = RESOLUTIONS[plan.source];
        expect(plan.bucketMs % res.bucketMs, range).toBe(0);
        expect(plan.spanMs, range).toBeLessThanOrEqual(res.keepMs);
      }
      expect(plan.spanMs / plan.bucketMs, range).toBeLessThanOrEqual(400);
    }
  });
});

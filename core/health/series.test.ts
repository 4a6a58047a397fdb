import { describe, expect, it } from "vitest";
import { bucketSamples, downsample, type Sample } from "./series";

const s = (id: number, gatewayId: string, at: number, a: Sample["isps"][string]): Sample => ({
  id,
  gatewayId,
  at,
  isps: { a },
});

const samples: Sample[] = [
  s(1, "g1", 0, { s: "up", l: 0, r: 1, f: null }),
  s(2, "g1", 1000, { s: "down", l: 100, r: null, f: "b" }),
  s(3, "g2", 1500, { s: "up", l: 10, r: 3, f: null }),
  s(4, "g1", 3000, { s: "up", l: 0, r: 2, f: null }),
];

describe("health series", () => {
  it("buckets per ISP and gateway: mean loss and latency, the worst state", () => {
    expect(bucketSamples(samples, 3000)).toEqual({
      a: {
        g1: [
          { t: 0, lossPct: 50, rttMs: 1, state: "down" },
          { t: 3000, lossPct: 0, rttMs: 2, state: "up" },
        ],
        g2: [{ t: 0, lossPct: 10, rttMs: 3, state: "up" }],
      },
    });
  });

  it("downsamples into one sample per gateway per bucket that charts the same as the raw samples", () => {
    const down = downsample(samples, 3000);
    expect(down.map((x) => [x.gatewayId, x.at, x.id, x.isps.a])).toEqual([
      ["g1", 0, 2, { s: "down", l: 50, r: 1, f: "b" }],
      ["g2", 0, 3, { s: "up", l: 10, r: 3, f: null }],
      ["g1", 3000, 4, { s: "up", l: 0, r: 2, f: null }],
    ]);
    expect(bucketSamples(down, 3000)).toEqual(bucketSamples(samples, 3000));
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";

describe("backoffDelay", () => {
  const policy = { baseMs: 1000, capMs: 60_000 };

  it("doubles per attempt up to the cap, with a jitter of half the nominal wait", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, policy, () => 0))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, policy, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000]);
  });

  it("stays within [nominal/2, nominal] for any attempt and random value", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 10_000 }), fc.double({ noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, policy, () => r);
        const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
        expect(d).toBeGreaterThanOrEqual(nominal / 2);
        expect(d).toBeLessThanOrEqual(nominal);
        expect(Number.isFinite(d)).toBe(true);
      }),
    );
  });

  it("spreads agents that failed at the same moment", () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffDelay(5, policy)));
    expect(waits.size).toBeGreaterThan(10);
  });
});

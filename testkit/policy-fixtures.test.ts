import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { examplePolicy, generatePolicy, seededRandom } from "./policy-fixtures";
import { zPolicy } from "../core/policy/model";
import { validatePolicy } from "../core/policy/validate";
import { policyWarnings } from "../core/policy/warnings";

describe("examplePolicy", () => {
  it("is a complete, valid policy without warnings", () => {
    const p = examplePolicy();
    expect(zPolicy.parse(p)).toEqual(p);
    expect(validatePolicy(p)).toEqual([]);
    expect(policyWarnings(p)).toEqual([]);
    expect(p.isps).toHaveLength(3);
    expect(p.rules.length).toBeGreaterThanOrEqual(10);
  });

  it("returns a fresh copy every time", () => {
    const a = examplePolicy();
    a.rules.pop();
    (a.isps[0] as { name: string }).name = "changed";
    const b = examplePolicy();
    expect(b.rules).toHaveLength(11);
    expect(b.isps[0]?.name).toBe("telia");
  });
});

describe("seededRandom", () => {
  it("repeats for a seed and stays in [0, 1)", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});

describe("generatePolicy", () => {
  it("is deterministic for the same options and varies with the seed", () => {
    expect(generatePolicy({ rules: 200, seed: 3 })).toEqual(generatePolicy({ rules: 200, seed: 3 }));
    expect(generatePolicy({ rules: 200, seed: 3 })).not.toEqual(generatePolicy({ rules: 200, seed: 4 }));
  });

  it("builds 10,000 valid rules with distinct sources", () => {
    const p = generatePolicy({ rules: 10_000 });
    expect(p.rules).toHaveLength(10_000);
    expect(validatePolicy(p)).toEqual([]);
    const sources = p.rules.map((r) => (r.source.kind === "cidrs" ? r.source.cidrs.join(",") : r.source.zoneId));
    expect(new Set(sources).size).toBe(10_000);
    expect(new Set(p.rules.map((r) => r.seq)).size).toBe(10_000);
  });

  it("switches to smaller blocks beyond what /24 blocks can hold, still distinct and valid", () => {
    const p = generatePolicy({ rules: 13_000, seed: 5 });
    expect(validatePolicy(p)).toEqual([]);
    const sources = p.rules.map((r) => (r.source.kind === "cidrs" ? r.source.cidrs.join(",") : ""));
    expect(new Set(sources).size).toBe(13_000);
  });

  it("always produces valid overlapping policies, with 1 to 3 ISPs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, rules, isps) => {
          const p = generatePolicy({ rules, seed, overlapping: true, isps });
          expect(validatePolicy(p)).toEqual([]);
          expect(p.isps).toHaveLength(isps);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("uses every feature somewhere in overlapping mode", () => {
    const p = generatePolicy({ rules: 400, seed: 11, overlapping: true });
    const rules = p.rules;
    expect(rules.some((r) => r.source.kind === "zone")).toBe(true);
    expect(rules.some((r) => r.priority !== null)).toBe(true);
    expect(rules.some((r) => r.redirectIspId !== null)).toBe(true);
    expect(rules.some((r) => r.fallbackPoolId !== null)).toBe(true);
    expect(rules.some((r) => !r.enabled)).toBe(true);
    expect(rules.some((r) => r.egressIspId === null)).toBe(true);
    expect(new Set(rules.map((r) => r.action.type))).toEqual(new Set(["snat", "exclude", "drop"]));
    expect(new Set(rules.map((r) => r.protocol))).toEqual(new Set(["any", "tcp", "udp", "icmp"]));
  });
});

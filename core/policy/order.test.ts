import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import { type Policy, zPolicy } from "./model";
import { orderEntries, orderRules } from "./order";

type RuleInput = Record<string, unknown> & { id: string; seq: number };

/** The example's ISPs and pools with the given zones and rules (defaults filled in). */
function policyWith(rules: RuleInput[], zones: Array<{ id: string; networks: string[] }> = []): Policy {
  const base = examplePolicy();
  return zPolicy.parse({
    ...base,
    zones: zones.map((z) => ({ name: z.id, ...z })),
    rules: rules.map((r) => ({ action: { type: "exclude" }, ...r })),
  });
}

const cidrs = (...c: string[]) => ({ kind: "cidrs", cidrs: c });
const summary = (p: Policy) =>
  orderEntries(p).map((e) => `${e.rule.id} ${e.source.text} ${e.destination?.text ?? "any"}`);

describe("orderEntries", () => {
  it("puts the longer source prefix first, whatever the creation order", () => {
    const p = policyWith([
      { id: "wide", seq: 1, source: cidrs("100.64.0.0/16") },
      { id: "narrow", seq: 2, source: cidrs("100.64.1.0/24") },
      { id: "host", seq: 3, source: cidrs("100.64.1.7/32") },
    ]);
    expect(summary(p)).toEqual(["host 100.64.1.7/32 any", "narrow 100.64.1.0/24 any", "wide 100.64.0.0/16 any"]);
  });

  it("orders by priority before prefix, rules without priority last", () => {
    const p = policyWith([
      { id: "host", seq: 1, source: cidrs("100.64.1.7/32") },
      { id: "p5", seq: 2, priority: 5, source: cidrs("100.64.0.0/10") },
      { id: "p0", seq: 3, priority: 0, source: cidrs("100.64.0.0/16") },
    ]);
    expect(summary(p).map((s) => s.split(" ")[0])).toEqual(["p0", "p5", "host"]);
  });

  it("breaks source ties by longer destination (none counts as /0), then creation order", () => {
    const p = policyWith([
      { id: "any-dst", seq: 1, source: cidrs("100.64.1.0/24") },
      { id: "dst24", seq: 2, source: cidrs("100.64.1.0/24"), destinations: ["203.0.113.0/24"] },
      { id: "dst32", seq: 3, source: cidrs("100.64.1.0/24"), destinations: ["203.0.113.9/32"] },
      { id: "later-any", seq: 4, source: cidrs("100.64.1.0/24") },
      { id: "earlier-dst24", seq: 0, source: cidrs("100.64.1.0/24"), destinations: ["198.51.100.0/24"] },
    ]);
    expect(summary(p)).toEqual([
      "dst32 100.64.1.0/24 203.0.113.9/32",
      "earlier-dst24 100.64.1.0/24 198.51.100.0/24",
      "dst24 100.64.1.0/24 203.0.113.0/24",
      "any-dst 100.64.1.0/24 any",
      "later-any 100.64.1.0/24 any",
    ]);
  });

  it("expands zone networks and destinations into one entry per pair, canonical text", () => {
    const p = policyWith(
      [{ id: "r", seq: 1, source: { kind: "zone", zoneId: "z" }, destinations: ["203.0.113.0/25", "198.51.100.7"] }],
      [{ id: "z", networks: ["100.64.2.0/24", "100.64.1.0/24"] }],
    );
    expect(summary(p)).toEqual([
      "r 100.64.1.0/24 198.51.100.7/32",
      "r 100.64.2.0/24 198.51.100.7/32",
      "r 100.64.1.0/24 203.0.113.0/25",
      "r 100.64.2.0/24 203.0.113.0/25",
    ]);
  });

  it("skips disabled rules and rules whose zone is missing", () => {
    const p = policyWith([
      { id: "off", seq: 1, source: cidrs("100.64.1.0/24"), enabled: false },
      { id: "ghost", seq: 2, source: { kind: "zone", zoneId: "nope" } },
      { id: "on", seq: 3, source: cidrs("100.64.2.0/24") },
    ]);
    expect(summary(p)).toEqual(["on 100.64.2.0/24 any"]);
  });

  it("orders the example policy as documented", () => {
    const ids = orderEntries(examplePolicy()).map((e) => e.rule.id);
    expect(ids[0]).toBe("rule-lab-dns"); // the only rule with a priority
    expect(ids.indexOf("rule-partner")).toBeLessThan(ids.indexOf("rule-office-telia")); // /25 destination beats none
    expect(ids).not.toContain("rule-old-vpn");
  });

  it("is a total order independent of the order of the policy's arrays", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer(),
        (seed, n, shuffleSeed) => {
          const p = generatePolicy({ rules: n, seed, overlapping: true });
          const shuffled: Policy = {
            ...p,
            rules: shuffle(p.rules, shuffleSeed),
            zones: shuffle(p.zones, shuffleSeed + 1).map((z) => ({
              ...z,
              networks: shuffle(z.networks, shuffleSeed + 2),
            })),
          };
          expect(summary(shuffled)).toEqual(summary(p));
          expect(orderRules(shuffled).map((r) => [r.rule.id, r.position])).toEqual(
            orderRules(p).map((r) => [r.rule.id, r.position]),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("never lets a later entry beat an earlier one on the documented keys", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const entries = orderEntries(generatePolicy({ rules: 60, seed, overlapping: true }));
        const key = (e: (typeof entries)[number]) => [
          e.rule.priority ?? Number.POSITIVE_INFINITY,
          -e.source.prefix,
          -(e.destination?.prefix ?? 0),
          e.rule.seq,
        ];
        for (let i = 1; i < entries.length; i++) {
          const a = key(entries[i - 1] as (typeof entries)[number]);
          const b = key(entries[i] as (typeof entries)[number]);
          const firstDiff = a.findIndex((v, k) => v !== b[k]);
          if (firstDiff !== -1) expect(a[firstDiff] as number).toBeLessThan(b[firstDiff] as number);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe("orderRules", () => {
  it("places a rule by its first entry and numbers from 1", () => {
    const p = policyWith(
      [
        { id: "middle", seq: 1, source: cidrs("100.64.1.0/24") },
        { id: "zone-rule", seq: 2, source: { kind: "zone", zoneId: "z" } },
      ],
      [{ id: "z", networks: ["100.64.0.0/16", "100.64.9.8/29"] }],
    );
    expect(orderRules(p).map((r) => [r.rule.id, r.position, r.entryCount])).toEqual([
      ["zone-rule", 1, 2],
      ["middle", 2, 1],
    ]);
  });

  it("keeps disabled rules where their entries would be and puts rules without entries last", () => {
    const p = policyWith([
      { id: "ghost", seq: 1, source: { kind: "zone", zoneId: "missing" } },
      { id: "wide", seq: 2, source: cidrs("100.64.0.0/16") },
      { id: "off", seq: 3, source: cidrs("100.64.1.0/24"), enabled: false },
      { id: "host", seq: 4, source: cidrs("100.64.1.1/32") },
    ]);
    expect(orderRules(p).map((r) => [r.rule.id, r.position, r.entryCount])).toEqual([
      ["host", 1, 1],
      ["off", 2, 0],
      ["wide", 3, 1],
      ["ghost", 4, 0],
    ]);
  });

  it("lists every rule exactly once", () => {
    const p = generatePolicy({ rules: 300, seed: 9, overlapping: true });
    const ordered = orderRules(p);
    expect(ordered.map((r) => r.position)).toEqual(p.rules.map((_, i) => i + 1));
    expect(new Set(ordered.map((r) => r.rule.id)).size).toBe(p.rules.length);
  });
});

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

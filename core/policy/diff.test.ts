import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffPolicies, isEmptyDiff } from "./diff";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import type { Isp, Policy, Pool, Rule } from "./model";

const clone = (p: Policy): Policy => structuredClone(p);

describe("diffPolicies", () => {
  it("finds nothing between a policy and itself or its copy", () => {
    const p = examplePolicy();
    expect(isEmptyDiff(diffPolicies(p, p))).toBe(true);
    expect(diffPolicies(p, clone(p))).toEqual({
      isps: [],
      pools: [],
      zones: [],
      rules: [],
      settings: [],
      summary: { added: 0, removed: 0, changed: 0, total: 0 },
    });
  });

  it("reports a changed list as a whole, with before and after", () => {
    const a = examplePolicy();
    const b = clone(a);
    (b.pools.find((x) => x.id === "pool-lte") as Pool).addresses = ["100.127.255.3", "100.127.255.2"];
    const d = diffPolicies(a, b);
    expect(d.pools).toEqual([
      {
        kind: "pool",
        id: "pool-lte",
        name: 'pool "lte"',
        change: "changed",
        fields: [
          {
            path: "addresses",
            label: "addresses",
            before: ["100.127.255.2"],
            after: ["100.127.255.3", "100.127.255.2"],
          },
        ],
      },
    ]);
    expect(d.summary).toEqual({ added: 0, removed: 0, changed: 1, total: 1 });
  });

  it("uses dotted paths and operator labels for nested fields, in the schema's field order", () => {
    const a = examplePolicy();
    const b = clone(a);
    const telia = b.isps.find((x) => x.id === "isp-telia") as Isp;
    telia.monitor.intervalMs = 100;
    telia.comment = "primary";
    telia.nextHop = "198.51.100.2";
    expect(diffPolicies(a, b).isps[0]?.fields).toEqual([
      { path: "nextHop", label: "next hop", before: "198.51.100.1", after: "198.51.100.2" },
      { path: "monitor.intervalMs", label: "probe interval (ms)", before: 200, after: 100 },
      { path: "comment", label: "comment", before: "1 Gb/s fibre, primary", after: "primary" },
    ]);
  });

  it("shows a rule's source switching from a zone to networks", () => {
    const a = examplePolicy();
    const b = clone(a);
    (b.rules.find((r) => r.id === "rule-lab-telia") as Rule).source = { kind: "cidrs", cidrs: ["100.64.21.0/24"] };
    const change = diffPolicies(a, b).rules[0];
    expect(change?.name).toBe("rule #7");
    expect(change?.fields).toEqual([
      { path: "source.kind", label: "source type", before: "zone", after: "cidrs" },
      { path: "source.cidrs", label: "source networks", before: undefined, after: ["100.64.21.0/24"] },
      { path: "source.zoneId", label: "source zone", before: "zone-lab", after: undefined },
    ]);
  });

  it("lists added and removed entities with all their fields", () => {
    const a = examplePolicy();
    const b = clone(a);
    b.zones = b.zones.filter((z) => z.id !== "zone-guest");
    b.zones.push({ id: "zone-iot", name: "iot", networks: ["100.64.40.0/24"], comment: "" });
    const d = diffPolicies(a, b);
    expect(d.zones).toEqual([
      {
        kind: "zone",
        id: "zone-guest",
        name: 'zone "guest-wifi"',
        change: "removed",
        fields: [
          { path: "name", label: "name", before: "guest-wifi", after: undefined },
          { path: "networks", label: "networks", before: ["100.64.128.0/20"], after: undefined },
          { path: "comment", label: "comment", before: "", after: undefined },
        ],
      },
      {
        kind: "zone",
        id: "zone-iot",
        name: 'zone "iot"',
        change: "added",
        fields: [
          { path: "name", label: "name", before: undefined, after: "iot" },
          { path: "networks", label: "networks", before: undefined, after: ["100.64.40.0/24"] },
          { path: "comment", label: "comment", before: undefined, after: "" },
        ],
      },
    ]);
    expect(d.summary).toEqual({ added: 1, removed: 1, changed: 0, total: 2 });
  });

  it("reports settings and counts them as one change", () => {
    const a = examplePolicy();
    const b = clone(a);
    b.settings = { ...a.settings, unmatched: "forward", hashSeed: 1 };
    const d = diffPolicies(a, b);
    expect(d.settings).toEqual([
      { path: "unmatched", label: "unmatched traffic", before: "drop", after: "forward" },
      { path: "hashSeed", label: "hash seed", before: 0x5eed, after: 1 },
    ]);
    expect(d.summary.total).toBe(1);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it("does not depend on the order of the policy's arrays, and sorts changes by name or creation order", () => {
    const a = examplePolicy();
    const b = clone(a);
    for (const r of b.rules) r.comment = `${r.comment}!`;
    for (const p of b.pools) p.comment = "edited";
    const shuffled = { ...b, rules: [...b.rules].reverse(), pools: [...b.pools].reverse() };
    const d = diffPolicies(a, b);
    expect(diffPolicies(a, shuffled)).toEqual(d);
    expect(diffPolicies({ ...a, rules: [...a.rules].reverse() }, b)).toEqual(d);
    expect(d.rules.map((c) => c.id)).toEqual([...a.rules].sort((x, y) => x.seq - y.seq).map((r) => r.id));
    expect(d.pools.map((c) => c.name)).toEqual([
      'pool "cogent-guest"',
      'pool "cogent-main"',
      'pool "lte"',
      'pool "telia-main"',
      'pool "telia-servers"',
    ]);
  });

  it("is empty exactly when the policies are equal", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 31 }), (s1, s2) => {
        const a = generatePolicy({ rules: 30, seed: s1, overlapping: true });
        const b = generatePolicy({ rules: 30, seed: s2, overlapping: true });
        expect(isEmptyDiff(diffPolicies(a, structuredClone(a)))).toBe(true);
        expect(isEmptyDiff(diffPolicies(a, b))).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 60 },
    );
  });

  it("notices any single field edit", () => {
    const base = examplePolicy();
    const edits: Array<(p: Policy) => void> = [
      (p) => {
        (p.rules[3] as Rule).enabled = false;
      },
      (p) => {
        (p.rules[0] as Rule).priority = 4;
      },
      (p) => {
        (p.rules[2] as Rule).destinations.push("203.0.113.0/24");
      },
      (p) => {
        (p.isps[1] as Isp).backupIspIds.reverse();
      },
      (p) => {
        (p.isps[0] as Isp).backupIspIds.reverse();
      },
      (p) => {
        (p.pools[3] as Pool).portRange = null;
      },
      (p) => {
        p.settings.hashSeed = 0;
      },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...edits.keys()), (i) => {
        const b = clone(base);
        (edits[i] as (p: Policy) => void)(b);
        const d = diffPolicies(base, b);
        expect(isEmptyDiff(d)).toBe(JSON.stringify(base) === JSON.stringify(b));
        expect(d.summary.total).toBe(isEmptyDiff(d) ? 0 : 1);
      }),
    );
  });
});

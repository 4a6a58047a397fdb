import fc from "fast-check";
import { standaloneHa } from "./ha";
import { describe, expect, it } from "vitest";
import { bigIntToIPv4, ipv4ToBigInt, parseCidr } from "../address";
import { examplePolicy } from "../../testkit/policy-fixtures";
import { poolAddresses } from "./compile";
import { aggregateCidrs, aggregateRanges, PoolSliceError, slicePool, slicesInForce } from "./pool-slices";

const expand = (cidrs: string[]) =>
  cidrs.flatMap((c) => {
    const r = parseCidr(c);
    if (!r.ok) throw new Error(r.error);
    const out: string[] = [];
    for (let v = r.value.start; v <= r.value.end; v++) out.push(bigIntToIPv4(v));
    return out;
  });

describe("slicesInForce", () => {
  it("holds for two or more gateways unless they are an active/standby pair", () => {
    const p = examplePolicy();
    expect(slicesInForce(p, [])).toBe(false);
    expect(slicesInForce(p, ["g1"])).toBe(false);
    expect(slicesInForce(p, ["g1", "g1"])).toBe(false);
    expect(slicesInForce(p, ["g1", "g2"])).toBe(true);
    const standby = { ...p, settings: { ...p.settings, ha: { ...standaloneHa(), mode: "active_standby" as const } } };
    expect(slicesInForce(standby, ["g1", "g2"])).toBe(false);
    const active = { ...p, settings: { ...p.settings, ha: { ...standaloneHa(), mode: "active_active" as const } } };
    expect(slicesInForce(active, ["g1", "g2"])).toBe(true);
  });
});

describe("slicePool", () => {
  it("splits a pool into disjoint slices that cover it, each gateway at least one address", () => {
    const pool = examplePolicy().pools.find((x) => x.id === "pool-telia-main");
    if (!pool) throw new Error("fixture");
    const all = poolAddresses(pool);
    const s = slicePool(pool, all, ["g1", "g2", "g3"]);
    const slices = ["g1", "g2", "g3"].map((g) => s.byGateway.get(g) ?? []);
    expect(slices.flat().sort()).toEqual([...all].sort());
    for (const slice of slices) expect(slice.length).toBeGreaterThanOrEqual(2);
    // each slice keeps numeric order, so hash buckets are stable within it
    for (const slice of slices)
      expect(slice).toEqual([...slice].sort((a, b) => Number(ipv4ToBigInt(a) - ipv4ToBigInt(b))));
  });

  it("refuses a pool with fewer addresses than gateways, naming the pool", () => {
    const pool = examplePolicy().pools.find((x) => x.id === "pool-lte");
    if (!pool) throw new Error("fixture");
    expect(() => slicePool(pool, poolAddresses(pool), ["g1", "g2"])).toThrow(PoolSliceError);
    expect(() => slicePool(pool, poolAddresses(pool), ["g1", "g2"])).toThrow(
      /pool "lte" has 1 address for 2 active gateways/,
    );
    expect(slicePool(pool, poolAddresses(pool), ["g1"]).byGateway.get("g1")).toEqual(["100.127.255.2"]);
  });
});

describe("aggregateCidrs and aggregateRanges", () => {
  it("covers exactly the addresses with the fewest blocks", () => {
    expect(aggregateCidrs(["198.51.100.8", "198.51.100.9", "198.51.100.10", "198.51.100.11"])).toEqual([
      "198.51.100.8/30",
    ]);
    expect(aggregateCidrs(["198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10"])).toEqual([
      "198.51.100.7/32",
      "198.51.100.8/31",
      "198.51.100.10/32",
    ]);
    expect(aggregateCidrs(["203.0.113.255", "203.0.114.0"])).toEqual(["203.0.113.255/32", "203.0.114.0/32"]);
    expect(aggregateCidrs([])).toEqual([]);
    expect(aggregateRanges(["198.51.100.12", "198.51.100.10", "198.51.100.11", "198.51.100.20"])).toEqual([
      "198.51.100.10-198.51.100.12",
      "198.51.100.20",
    ]);
  });

  it("never covers an address it was not given, nor misses one", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 80 }), (offsets) => {
        const base = ipv4ToBigInt("198.51.100.0");
        const addrs = offsets.map((o) => bigIntToIPv4(base + BigInt(o)));
        const cidrs = aggregateCidrs(addrs);
        expect(expand(cidrs).sort()).toEqual([...addrs].sort());
        // no two blocks could merge into one: sibling blocks of equal size never both appear
        const set = new Set(cidrs);
        for (const c of cidrs) {
          const r = parseCidr(c);
          if (!r.ok || r.value.prefix === 0) continue;
          const size = r.value.end - r.value.start + 1n;
          const sibling = r.value.start ^ size;
          expect(set.has(`${bigIntToIPv4(sibling)}/${r.value.prefix}`)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

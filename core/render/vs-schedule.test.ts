import { describe, expect, it } from "vitest";
import { virtualService } from "../../testkit/spec-fixtures";
import {
  maglevTable,
  realServerKey,
  reducedWeights,
  scheduleBuckets,
  usableServers,
  weightedBuckets,
} from "./vs-schedule";

const servers = (n: number) => Array.from({ length: n }, (_, i) => `100.64.10.${i + 2}:8080`);

describe("bucket tables", () => {
  it("interleaves weights smoothly and exactly", () => {
    expect(weightedBuckets(["a", "b"], [1, 2])).toEqual(["b", "a", "b"]);
    expect(weightedBuckets(["a", "b", "c"], [5, 1, 1])).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
    // a common divisor does not make the table longer
    expect(weightedBuckets(["a", "b"], [100, 200])).toHaveLength(3);
  });

  it("scales very large weights into at most 1024 buckets, in proportion", () => {
    const w = reducedWeights([65535, 32767, 1]);
    expect(w.reduce((a, x) => a + x, 0)).toBeLessThanOrEqual(1024);
    expect(w[2]).toBe(1);
    expect(Math.abs((w[0] ?? 0) / (w[1] ?? 1) - 2)).toBeLessThan(0.01);
  });

  it("fills the Maglev table in proportion to the weights", () => {
    const names = servers(3);
    const table = maglevTable(names, names, [1, 1, 2]);
    expect(table).toHaveLength(251);
    const count = (s: string) => table.filter((x) => x === s).length;
    expect(count(names[0] as string)).toBeGreaterThan(55);
    expect(count(names[2] as string)).toBeGreaterThan(115);
  });

  it("a server that leaves the Maglev table moves few of the other servers' buckets", () => {
    const names = servers(5);
    const before = maglevTable(names, names, [1, 1, 1, 1, 1]);
    const gone = names[2] as string;
    const rest = names.filter((n) => n !== gone);
    const after = maglevTable(rest, rest, [1, 1, 1, 1]);
    let moved = 0;
    before.forEach((s, i) => {
      if (s !== gone && after[i] !== s) moved++;
    });
    // the leaving server's ~50 buckets must move; a plain modulo hash would move ~200 of 251
    expect(moved).toBeLessThan(251 * 0.15);
  });

  it("takes draining, weight 0 and down servers out; rr ignores other weights", () => {
    const s = virtualService("web", "198.51.100.80", 80, [
      { address: "100.64.10.2", weight: 3 },
      { address: "100.64.10.3", weight: 0 },
      { address: "100.64.10.4", state: "draining" },
      { address: "100.64.10.5" },
    ]);
    const down = new Set([realServerKey(s, s.realServers[3] as never)]);
    expect(realServerKey(s, s.realServers[3] as never)).toBe("web|100.64.10.5|80");
    expect(usableServers(s, new Set()).map((r) => r.address)).toEqual(["100.64.10.2", "100.64.10.5"]);
    expect(usableServers(s, down).map((r) => r.address)).toEqual(["100.64.10.2"]);
    expect(scheduleBuckets(s, usableServers(s, new Set())).map((r) => r.address)).toEqual([
      "100.64.10.2",
      "100.64.10.5",
    ]);
    const wrr = { ...s, scheduler: "wrr" as const };
    expect(scheduleBuckets(wrr, usableServers(wrr, new Set())).map((r) => r.address)).toEqual([
      "100.64.10.2",
      "100.64.10.2",
      "100.64.10.5",
      "100.64.10.2",
    ]);
  });
});

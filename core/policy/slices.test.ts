import { describe, expect, it } from "vitest";
import { assignSlices, sliceOf } from "./slices";

const range = (n: number, base = "198.51.100.") => Array.from({ length: n }, (_, i) => `${base}${i + 1}`);

describe("assignSlices", () => {
  it("gives every address exactly one owner and splits evenly", () => {
    const addrs = range(10);
    const owners = assignSlices(addrs, ["gw-a", "gw-b", "gw-c"]);
    expect(owners.size).toBe(10);
    const counts = ["gw-a", "gw-b", "gw-c"].map((g) => sliceOf(addrs, owners, g).length);
    expect(counts.reduce((a, b) => a + b)).toBe(10);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(2);
  });

  it("splits a two-address pool one each", () => {
    const owners = assignSlices(range(2), ["gw-a", "gw-b"]);
    expect(new Set(owners.values()).size).toBe(2);
  });

  it("does not depend on the order of its inputs", () => {
    const addrs = range(40);
    const a = assignSlices(addrs, ["x", "y", "z"]);
    const b = assignSlices([...addrs].reverse(), ["z", "x", "y"]);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  it("moves few addresses when a gateway joins or leaves", () => {
    const addrs = range(200);
    const before = assignSlices(addrs, ["g1", "g2", "g3"]);
    const joined = assignSlices(addrs, ["g1", "g2", "g3", "g4"]);
    const movedOnJoin = addrs.filter((a) => before.get(a) !== joined.get(a));
    // the newcomer takes its share (50); bounded loads may move a few more
    expect(movedOnJoin.filter((a) => joined.get(a) === "g4").length).toBe(50);
    expect(movedOnJoin.length).toBeLessThanOrEqual(60);
    const left = assignSlices(addrs, ["g1", "g2"]);
    const movedOnLeave = addrs.filter((a) => before.get(a) !== left.get(a));
    const g3Share = addrs.filter((a) => before.get(a) === "g3").length;
    expect(movedOnLeave.length).toBeLessThanOrEqual(g3Share + 10);
  });

  it("honours pins and ignores pins to unknown gateways", () => {
    const addrs = range(6);
    const owners = assignSlices(
      addrs,
      ["a", "b"],
      new Map([
        ["198.51.100.1", "b"],
        ["198.51.100.2", "nobody"],
      ]),
    );
    expect(owners.get("198.51.100.1")).toBe("b");
    expect(["a", "b"]).toContain(owners.get("198.51.100.2"));
    expect(sliceOf(addrs, owners, "a").length).toBe(3);
  });

  it("assigns nothing without gateways", () => {
    expect(assignSlices(range(3), []).size).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { cidrRange, formatRange, ipv4ToNumber, netmask, rangeToBlocks, segmentByCover, unionRanges } from "./intervals";

describe("intervals", () => {
  it("formats exact networks as prefixes and anything else as ranges", () => {
    expect(formatRange(cidrRange("100.64.0.0/10"))).toBe("100.64.0.0/10");
    expect(formatRange(cidrRange("0.0.0.0/0"))).toBe("0.0.0.0/0");
    expect(formatRange(cidrRange("203.0.113.7/32"))).toBe("203.0.113.7");
    expect(formatRange({ start: ipv4ToNumber("10.0.0.1"), end: ipv4ToNumber("10.0.0.2") })).toBe("10.0.0.1-10.0.0.2");
    // aligned size but not aligned start
    expect(formatRange({ start: ipv4ToNumber("10.0.0.2"), end: ipv4ToNumber("10.0.0.5") })).toBe("10.0.0.2-10.0.0.5");
  });

  it("joins overlapping and adjacent ranges", () => {
    const joined = unionRanges([
      cidrRange("203.0.113.16/28"),
      cidrRange("203.0.113.0/28"),
      cidrRange("203.0.113.4/30"),
    ]);
    expect(joined.map(formatRange)).toEqual(["203.0.113.0/27"]);
    expect(unionRanges([cidrRange("10.0.0.0/24"), cidrRange("10.0.2.0/24")]).map(formatRange)).toEqual([
      "10.0.0.0/24",
      "10.0.2.0/24",
    ]);
  });

  it("segments the space so each segment has one set of covering items, in item order", () => {
    const items = ["0.0.0.0/0", "100.64.1.0/24", "100.64.0.0/16", "100.64.1.128/25"];
    const segs = segmentByCover(items, cidrRange).map((s) => [formatRange(s), s.covering.join(" ")]);
    expect(segs).toEqual([
      ["0.0.0.0-100.63.255.255", "0.0.0.0/0"],
      ["100.64.0.0/24", "0.0.0.0/0 100.64.0.0/16"],
      ["100.64.1.0/25", "0.0.0.0/0 100.64.1.0/24 100.64.0.0/16"],
      ["100.64.1.128/25", "0.0.0.0/0 100.64.1.0/24 100.64.0.0/16 100.64.1.128/25"],
      ["100.64.2.0-100.64.255.255", "0.0.0.0/0 100.64.0.0/16"],
      ["100.65.0.0-255.255.255.255", "0.0.0.0/0"],
    ]);
  });

  it("leaves out gaps and keeps duplicates", () => {
    const segs = segmentByCover(["10.0.0.0/24", "10.0.0.0/24", "10.0.2.0/24"], cidrRange);
    expect(segs.map((s) => [formatRange(s), s.covering.length])).toEqual([
      ["10.0.0.0/24", 2],
      ["10.0.2.0/24", 1],
    ]);
  });

  it("cuts a range into the fewest networks that cover it exactly", () => {
    const blocks = (a: string, z: string) =>
      rangeToBlocks({ start: ipv4ToNumber(a), end: ipv4ToNumber(z) }).map((b) =>
        formatRange({ start: b.start, end: b.start + 2 ** (32 - b.prefix) - 1 }),
      );
    expect(blocks("100.64.3.0", "100.64.255.255")).toEqual([
      "100.64.3.0/24",
      "100.64.4.0/22",
      "100.64.8.0/21",
      "100.64.16.0/20",
      "100.64.32.0/19",
      "100.64.64.0/18",
      "100.64.128.0/17",
    ]);
    expect(blocks("0.0.0.0", "255.255.255.255")).toEqual(["0.0.0.0/0"]);
    expect(blocks("10.0.0.1", "10.0.0.1")).toEqual(["10.0.0.1"]);
    expect(blocks("255.255.255.254", "255.255.255.255")).toEqual(["255.255.255.254/31"]);
  });

  it("writes netmasks", () => {
    expect(netmask(26)).toBe("255.255.255.192");
    expect(netmask(0)).toBe("0.0.0.0");
    expect(netmask(32)).toBe("255.255.255.255");
  });
});

import { describe, expect, it } from "vitest";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import { type ArpCounts, ArpWatch, parseArpCounters } from "./arp-watch";

const spec = gatewaySpec({
  isps: [isp("a", 1, "ispa", "198.51.100.1"), isp("b", 2, "ispb", "203.0.113.1")],
  pools: [pool("pa", "a", ["198.51.100.10", "198.51.100.11"], null, "on-link"), pool("pb", "b", ["203.0.113.50"])],
  entries: [],
});

const counts = (rows: Record<string, [number, number]>) =>
  new Map<string, ArpCounts>(Object.entries(rows).map(([a, [asked, answered]]) => [a, { asked, answered }]));

describe("parseArpCounters", () => {
  it("reads the per-address counters of both sets from nft -j", () => {
    const set = (name: string, elems: Array<[string, number]>) => ({
      set: {
        family: "arp",
        name,
        table: "gatehouse_arp",
        elem: elems.map(([val, packets]) => ({ elem: { val, counter: { packets, bytes: 0 } } })),
      },
    });
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: "1.0.6" } },
        set("onlink_asked", [
          ["198.51.100.10", 7],
          ["198.51.100.11", 0],
        ]),
        set("onlink_answered", [["198.51.100.10", 2]]),
        { chain: { name: "arp_in" } },
      ],
    });
    expect([...parseArpCounters(json)]).toEqual([
      ["198.51.100.10", { asked: 7, answered: 2 }],
      ["198.51.100.11", { asked: 0, answered: 0 }],
    ]);
    expect(parseArpCounters("Error: No such file or directory").size).toBe(0);
  });
});

describe("ArpWatch", () => {
  it("reports an address the router keeps asking for while no reply goes out, per ISP", () => {
    const w = new ArpWatch(10_000);
    w.observe(spec, counts({ "198.51.100.10": [0, 0], "198.51.100.11": [0, 0] }), 0);
    w.observe(spec, counts({ "198.51.100.10": [4, 0], "198.51.100.11": [5, 5] }), 3_000);
    expect(w.unanswered("a")).toEqual(["198.51.100.10"]);
    expect(w.unanswered("b")).toEqual([]);
  });

  it("does not report a request or two, nor an address that is answered again", () => {
    const w = new ArpWatch(10_000);
    w.observe(spec, counts({ "198.51.100.10": [0, 0] }), 0);
    w.observe(spec, counts({ "198.51.100.10": [2, 0] }), 1_000);
    expect(w.unanswered("a")).toEqual([]);
    w.observe(spec, counts({ "198.51.100.10": [9, 0] }), 4_000);
    expect(w.unanswered("a")).toEqual(["198.51.100.10"]);
    // the window slides past the unanswered requests once replies go out again
    w.observe(spec, counts({ "198.51.100.10": [10, 1] }), 15_000);
    w.observe(spec, counts({ "198.51.100.10": [11, 2] }), 16_000);
    expect(w.unanswered("a")).toEqual([]);
  });

  it("starts over when a reload resets the counters", () => {
    const w = new ArpWatch(10_000);
    w.observe(spec, counts({ "198.51.100.10": [20, 0] }), 0);
    w.observe(spec, counts({ "198.51.100.10": [1, 0] }), 1_000);
    expect(w.unanswered("a")).toEqual([]);
  });
});

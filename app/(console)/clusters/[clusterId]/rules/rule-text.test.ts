import { describe, expect, it } from "vitest";
import type { Rule } from "@/core/policy/model";
import { ruleCells } from "./rule-text";

const base: Rule = {
  id: "r1",
  seq: 4,
  priority: null,
  source: { kind: "zone", zoneId: "z1" },
  destinations: [],
  protocol: "any",
  egressIspId: null,
  action: { type: "snat", poolId: "p1", algorithm: "sdh" },
  redirectIspId: null,
  fallbackPoolId: null,
  onFailover: "follow",
  failoverIspId: null,
  enabled: true,
  comment: "",
};
const names = new Map([
  ["z1", "office"],
  ["p1", "telia-a"],
  ["i1", "telia"],
  ["i2", "cogent"],
]);
const isps = new Map([["i2", { name: "cogent", nextHop: "203.0.113.1" }]]);

describe("rule cells", () => {
  it("names zones, pools and ISPs and says any where nothing is restricted", () => {
    expect(ruleCells(base, names, isps)).toEqual({
      from: "zone office",
      to: "any",
      protocol: "any",
      criteria: "—",
      egress: "any",
      pool: "telia-a",
      algorithm: "sdh",
      algorithmLabel: "source + destination hash",
      redirect: "—",
    });
  });

  it("shows networks, the redirect's next hop and non-SNAT actions", () => {
    const r: Rule = {
      ...base,
      source: { kind: "cidrs", cidrs: ["100.64.0.0/24", "100.64.1.0/24"] },
      destinations: ["198.51.100.0/25"],
      protocol: "tcp",
      egressIspId: "i1",
      redirectIspId: "i2",
      action: { type: "exclude" },
    };
    expect(ruleCells(r, names, isps)).toMatchObject({
      from: "100.64.0.0/24, 100.64.1.0/24",
      to: "198.51.100.0/25",
      egress: "telia",
      pool: "no NAT",
      algorithm: "—",
      redirect: "203.0.113.1 (cogent)",
    });
    expect(ruleCells({ ...base, action: { type: "drop" } }, names, isps).pool).toBe("drop");
  });

  it("lists ports, input interfaces and the mark in one cell", () => {
    const r: Rule = {
      ...base,
      protocol: "tcp",
      dstPorts: ["443", "8000-8100"],
      inInterfaces: ["lan1"],
      fwmark: { value: 0x10000000, mask: 0xf0000000 },
    };
    expect(ruleCells(r, names, isps).criteria).toBe("port 443, 8000-8100 · in lan1 · mark 0x10000000/0xf0000000");
  });
});

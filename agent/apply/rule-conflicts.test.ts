import { describe, expect, it } from "vitest";
import { renderRoutes } from "../../core/render/routes";
import { officeSpec } from "../../testkit/spec-fixtures";
import { findRuleConflicts } from "./rule-conflicts";

const desired = renderRoutes(officeSpec());
const isps = ["ispa", "ispb", "ispc"];
const base = [
  { priority: 0, src: "all", table: "local" },
  { priority: 101, src: "all", fwmark: "0x101", fwmask: "0x1ff", table: "7101" },
  { priority: 102, src: "all", fwmark: "0x102", fwmask: "0x1ff", table: "7102" },
  { priority: 105, src: "all", fwmark: "0x105", fwmask: "0x1ff", table: "7105" },
  { priority: 32766, src: "all", table: "main" },
  { priority: 32767, src: "all", table: "default" },
];

describe("findRuleConflicts", () => {
  it("finds nothing when Gatehouse's rules come first", () => {
    const rules = [...base, { priority: 1000, src: "100.64.1.0", srclen: 24, table: "300" }];
    expect(findRuleConflicts(rules, desired, isps)).toEqual([]);
  });

  it("reports an operator rule before Gatehouse's, with the first of its rules it precedes", () => {
    const rules = [
      ...base,
      { priority: 100, src: "100.64.3.0", srclen: 24, table: "300" },
      { priority: 103, src: "all", iif: "lan0", table: "200" },
      { priority: 50, src: "all", action: "unreachable" },
    ];
    expect(findRuleConflicts(rules, desired, isps)).toEqual([
      { priority: 100, rule: "from 100.64.3.0/24 lookup 300", before: 101 },
      { priority: 103, rule: "from all iif lan0 lookup 200", before: 105 },
      { priority: 50, rule: "from all unreachable", before: 101 },
    ]);
  });

  it("leaves out rules that cannot override a reroute", () => {
    const rules = [
      ...base,
      // main for routes more specific than a default route only
      { priority: 10, src: "all", table: "main", suppress_prefixlen: 0 },
      // the gateway's own sockets bound to an interface
      { priority: 11, src: "all", oif: "ispa", table: "9" },
      // traffic coming in from an ISP
      { priority: 12, src: "all", iif: "ispb", table: "9" },
      // a mark Gatehouse never sets on a rerouted packet (the reroute bit clear)
      { priority: 13, src: "all", fwmark: "0x0", fwmask: "0x100", table: "9" },
      { priority: 14, src: "all", nop: null },
    ];
    expect(findRuleConflicts(rules, desired, isps)).toEqual([]);
  });

  it("reports a mark rule on the operator's own bits: they may be set on any packet", () => {
    const rules = [...base, { priority: 20, src: "all", fwmark: "0x10000000", fwmask: "0x10000000", table: "200" }];
    expect(findRuleConflicts(rules, desired, isps).map((c) => c.priority)).toEqual([20]);
  });
});

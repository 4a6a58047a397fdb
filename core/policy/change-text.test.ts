import { describe, expect, it } from "vitest";
import { diffPolicies } from "./diff";
import { examplePolicy } from "../../testkit/policy-fixtures";
import { diffText, nameLookup, valueText } from "./change-text";

describe("policy values in words", () => {
  const names = new Map([
    ["isp-1", "telia"],
    ["isp-2", "cogent"],
    ["pool-1", "telia-a"],
    ["zone-1", "office"],
  ]);

  it("names referenced entities and says what empty values mean", () => {
    expect(valueText("isp", "backupIspIds", ["isp-2", "isp-9"], names)).toBe('"cogent", "isp-9"');
    expect(valueText("isp", "backupIspIds", [], names)).toBe("none");
    expect(valueText("isp", "probeTargets", [], names)).toBe("the next hop");
    expect(valueText("rule", "egressIspId", null, names)).toBe("any ISP");
    expect(valueText("rule", "redirectIspId", "isp-2", names)).toBe('via ISP "cogent"');
    expect(valueText("rule", "destinations", [], names)).toBe("any");
    expect(valueText("rule", "priority", null, names)).toBe("automatic (by specificity)");
    expect(valueText("rule", "source", { kind: "zone", zoneId: "zone-1" }, names)).toBe('zone "office"');
    expect(valueText("rule", "action", { type: "snat", poolId: "pool-1", algorithm: "sdph" }, names)).toBe(
      'SNAT to pool "telia-a" (5-tuple hash)',
    );
    expect(valueText("rule", "action", { type: "exclude" }, names)).toBe("exclude from NAT");
    expect(valueText("pool", "portRange", { from: 20000, to: 29999 }, names)).toBe("20000-29999");
    expect(valueText("pool", "portRange", null, names)).toBe("all ports");
    expect(valueText("rule", "enabled", false, names)).toBe("no");
    expect(valueText("rule", "comment", "", names)).toBe("(none)");
    expect(valueText("rule", "comment", undefined, names)).toBe("—");
    expect(valueText("settings", "unmatched", "forward", names)).toBe("forward without NAT");
  });

  it("turns a diff into fields an operator reads, without ids and creation order", () => {
    const before = examplePolicy();
    const after = structuredClone(before);
    const rule = after.rules[0];
    if (rule?.action.type !== "snat") throw new Error("the example's first rule translates");
    rule.action = { ...rule.action, algorithm: "rr" };
    after.pools = after.pools.slice(1);
    after.rules = after.rules.filter((r) => r.action.type !== "snat" || r.action.poolId !== before.pools[0]?.id);
    after.rules.unshift(rule);
    const text = diffText(diffPolicies(before, after), nameLookup(before, after));
    const removed = text.pools.find((c) => c.change === "removed");
    expect(removed?.fields.map((f) => f.path)).not.toContain("id");
    expect(removed?.fields.every((f) => f.after === "—")).toBe(true);
    for (const c of text.rules.filter((x) => x.change === "removed")) {
      expect(c.fields.map((f) => f.path)).not.toContain("seq");
    }
  });
});

import { describe, expect, it } from "vitest";
import { examplePolicy } from "../../testkit/policy-fixtures";
import { type Policy, zPolicy } from "./model";
import { orderEntries, orderModeChanges, orderRules } from "./order";
import { explainPlacement } from "./placement";
import { valueText } from "./change-text";
import { compileGatewaySpec } from "./compile";
import { simulatePacket } from "./simulate";

type RuleInput = Record<string, unknown> & { id: string; seq: number };

function policyWith(rules: RuleInput[], ruleOrder?: "list" | "specificity"): Policy {
  const base = examplePolicy();
  return zPolicy.parse({
    ...base,
    settings: { ...base.settings, ...(ruleOrder ? { ruleOrder } : {}) },
    zones: [{ id: "lab", name: "lab", networks: ["100.64.9.0/24", "100.64.8.0/22"] }],
    rules: rules.map((r) => ({ action: { type: "exclude" }, ...r })),
  });
}

const cidrs = (...c: string[]) => ({ kind: "cidrs", cidrs: c });
const ids = (p: Policy) => orderRules(p).map((r) => r.rule.id);

const RULES: RuleInput[] = [
  { id: "wide", seq: 1, source: cidrs("100.64.0.0/16") },
  { id: "narrow", seq: 2, source: cidrs("100.64.1.0/24") },
  { id: "zone", seq: 3, source: { kind: "zone", zoneId: "lab" } },
  { id: "host", seq: 4, source: cidrs("100.64.1.7/32") },
];

describe("rule order modes", () => {
  it("defaults to most specific first", () => {
    expect(policyWith(RULES).settings.ruleOrder).toBeUndefined();
    expect(ids(policyWith(RULES))).toEqual(["host", "narrow", "zone", "wide"]);
  });

  it("in list mode keeps the listed order and a rule's entries together", () => {
    const p = policyWith(RULES, "list");
    expect(ids(p)).toEqual(["wide", "narrow", "zone", "host"]);
    expect(orderEntries(p).map((e) => `${e.rule.id} ${e.source.text}`)).toEqual([
      "wide 100.64.0.0/16",
      "narrow 100.64.1.0/24",
      "zone 100.64.9.0/24",
      "zone 100.64.8.0/22",
      "host 100.64.1.7/32",
    ]);
  });

  it("in list mode a priority still places a rule before those without one", () => {
    const p = policyWith(
      RULES.map((r) => (r.id === "host" ? { ...r, priority: 10 } : r)),
      "list",
    );
    expect(ids(p)).toEqual(["host", "wide", "narrow", "zone"]);
  });

  it("lists exactly the rules whose place changes when the mode switches", () => {
    const p = policyWith(RULES);
    const changes = orderModeChanges(p, "list").map((c) => `${c.ruleId} ${c.from}->${c.to}`);
    expect(changes).toEqual(["wide 4->1", "host 1->4"]);
    expect(orderModeChanges(p, "specificity")).toEqual([]);
  });

  it("the same connection matches a different rule in each mode", () => {
    const spec = policyWith(RULES);
    const list = policyWith(RULES, "list");
    const first = (p: Policy) => {
      const gatewaySpec = compileGatewaySpec({
        policy: p,
        revision: 1,
        clusterId: "c1",
        clusterName: "edge",
        gateway: { id: "g1", name: "gw1" },
        failover: [],
        failoverEpoch: 0,
      });
      const packet = {
        src: "100.64.1.7",
        dst: "203.0.113.5",
        protocol: "tcp" as const,
        routedIspId: p.isps[0]?.id ?? null,
      };
      return simulatePacket(gatewaySpec, new Map(), packet).matched?.ruleId;
    };
    expect(first(spec)).toBe("host");
    expect(first(list)).toBe("wide");
  });
});

describe("explainPlacement", () => {
  it("says which neighbour is more or less specific, and why", () => {
    const p = policyWith(RULES);
    expect(explainPlacement(p, "narrow")?.text).toBe(
      "Placed at #2 of 4, most specific first: it was created before #3 and they are equally specific; #1's source /32 is more specific than this rule's /24.",
    );
    expect(explainPlacement(p, "host")?.text).toBe(
      "Placed at #1 of 4, most specific first: its source /32 is more specific than #2's /24.",
    );
  });

  it("names a pinned priority and a destination tie-break", () => {
    const p = policyWith([
      { id: "a", seq: 1, source: cidrs("100.64.1.0/24") },
      { id: "b", seq: 2, source: cidrs("100.64.1.0/24"), destinations: ["203.0.113.0/24"] },
      { id: "c", seq: 3, source: cidrs("100.64.0.0/10"), priority: 5 },
    ]);
    expect(explainPlacement(p, "c")?.text).toContain("it has priority 5 and #2 has none");
    expect(explainPlacement(p, "b")?.text).toContain(
      "its destination /24 is more specific than #3's any destination (the sources tie at /24)",
    );
  });

  it("in list mode says a new rule goes to the end", () => {
    const p = policyWith(RULES, "list");
    expect(explainPlacement(p, "host")?.text).toBe(
      "Placed at #4 of 4: rules apply in the order listed, so a new rule goes to the end.",
    );
    expect(explainPlacement(p, "missing")).toBeNull();
  });
});

describe("the rule order in change texts", () => {
  it("reads an absent setting as most specific first", () => {
    const names = new Map<string, string>();
    expect(valueText("settings", "ruleOrder", undefined, names)).toBe("most specific first");
    expect(valueText("settings", "ruleOrder", "list", names)).toBe("rules apply in the order listed");
  });
});

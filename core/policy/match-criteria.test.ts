import { describe, expect, it } from "vitest";
import { examplePolicy } from "../../testkit/policy-fixtures";
import { readPolicyDocument, writePolicyDocument } from "../export/document";
import { renderRuleset } from "../render/nft";
import { decide, type Packet } from "../spec/decide";
import { nameLookup, valueText } from "./change-text";
import { compileGatewaySpec } from "./compile";
import { criteriaCount, markMatches, parseFwmark, parsePortSpan, portMatches } from "./match-criteria";
import { type Policy, type Rule, zRuleFields } from "./model";
import { orderEntries } from "./order";
import { validateEntity, validatePolicy } from "./validate";
import { policyWarnings } from "./warnings";

const base = {
  source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
  action: { type: "snat", poolId: "pool-telia-main", algorithm: "sh" },
};

function fieldErrors(fields: Record<string, unknown>): string[] {
  const r = zRuleFields.safeParse({ ...base, ...fields });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("destination ports", () => {
  it("reads single ports and ranges, iptables' a:b too, and stores a-b", () => {
    expect(parsePortSpan("443")).toEqual({ ok: true, value: { from: 443, to: 443 } });
    expect(parsePortSpan("8000:8100")).toEqual({ ok: true, value: { from: 8000, to: 8100 } });
    const r = zRuleFields.parse({ ...base, protocol: "tcp", dstPorts: ["8000:8100", " 53 "] });
    expect(r.dstPorts).toEqual(["8000-8100", "53"]);
  });

  it("refuses ports outside 1-65535, reversed ranges, junk and overlaps, naming the item", () => {
    expect(fieldErrors({ dstPorts: ["0"] })).toEqual(["dstPorts.0: port 0 is outside 1-65535"]);
    expect(fieldErrors({ dstPorts: ["80", "65536"] })).toEqual(["dstPorts.1: port 65536 is outside 1-65535"]);
    expect(fieldErrors({ dstPorts: ["9000-8000"] })).toEqual([
      "dstPorts.0: range 9000-8000: the first port must not be above the last",
    ]);
    expect(fieldErrors({ dstPorts: ["http"] })[0]).toMatch(/^dstPorts.0: "http" is not a port/);
    expect(fieldErrors({ dstPorts: ["80-90", "85"] })).toEqual(["dstPorts: 80-90 and 85 overlap"]);
    expect(fieldErrors({ dstPorts: Array.from({ length: 33 }, (_, i) => `${i + 1}`) })).toEqual([
      "dstPorts: at most 32 ports or ranges",
    ]);
  });

  it("needs protocol tcp or udp", () => {
    const policy = examplePolicy();
    const issues = validateEntity(policy, "rule", { ...base, protocol: "any", dstPorts: ["443"] });
    expect(issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["dstPorts", "destination ports need protocol tcp or udp"],
    ]);
    expect(validateEntity(policy, "rule", { ...base, protocol: "udp", dstPorts: ["53"] })).toEqual([]);
  });

  it("match a packet's destination port; a packet without one matches no port rule", () => {
    expect(portMatches(["80", "8000-8100"], 8050)).toBe(true);
    expect(portMatches(["80", "8000-8100"], 8101)).toBe(false);
    expect(portMatches(["80"], undefined)).toBe(false);
    expect(portMatches([], undefined)).toBe(true);
  });
});

describe("input interfaces", () => {
  it("refuses names Linux refuses, and duplicates", () => {
    expect(fieldErrors({ inInterfaces: ["eth0 x"] })[0]).toMatch(/^inInterfaces.0: may contain only/);
    expect(fieldErrors({ inInterfaces: ["a-very-long-name0"] })).toEqual([
      "inInterfaces.0: must be at most 15 characters (the Linux limit)",
    ]);
    expect(fieldErrors({ inInterfaces: ["lan0", "lan0"] })).toEqual(["inInterfaces: lists an interface twice"]);
  });

  it("refuses an ISP's interface: traffic from an ISP is never classified", () => {
    const issues = validateEntity(examplePolicy(), "rule", { ...base, inInterfaces: ["lan0", "eth2"] });
    expect(issues.map((i) => [i.path.join("."), i.message])).toEqual([
      [
        "inInterfaces.1",
        '"eth2" is the interface of ISP "cogent": traffic coming in from an ISP is not the LAN\'s and no rule sees it',
      ],
    ]);
  });
});

describe("fwmark", () => {
  it("reads value/mask in hex or decimal; a bare value is read under the operator's bits", () => {
    expect(parseFwmark("0x10000000/0xf0000000")).toEqual({ ok: true, value: { value: 0x10000000, mask: 0xf0000000 } });
    expect(parseFwmark("0x20000000")).toEqual({ ok: true, value: { value: 0x20000000, mask: 0xf0000000 } });
    expect(parseFwmark("0x1/0x1")).toEqual({ ok: false, error: expect.stringMatching(/^mask uses bits Gatehouse/) });
    expect(parseFwmark("268435456/4026531840")).toEqual({
      ok: true,
      value: { value: 0x10000000, mask: 0xf0000000 },
    });
    expect(parseFwmark("0x1ffffffff")).toEqual({ ok: false, error: "must fit in 32 bits" });
    expect(parseFwmark("mark")).toEqual({ ok: false, error: expect.stringMatching(/is not a mark/) });
  });

  it("keeps clear of the bits Gatehouse writes, and the value inside the mask", () => {
    expect(fieldErrors({ fwmark: { value: 1, mask: 0xff } })).toEqual([
      "fwmark.mask: uses bits Gatehouse writes itself (0xfffffff): an operator's mark must be in 0xf0000000",
    ]);
    expect(fieldErrors({ fwmark: { value: 0x30000000, mask: 0x10000000 } })).toEqual([
      "fwmark.value: has bits outside the mask 0x10000000",
    ]);
    expect(fieldErrors({ fwmark: { value: 0, mask: 0 } })).toEqual(["fwmark.mask: must not be 0"]);
    expect(fieldErrors({ fwmark: { value: -1, mask: 0x10000000 } })).toEqual(["fwmark.value: must be 0 or more"]);
    expect(fieldErrors({ fwmark: { value: 0, mask: 2 ** 32 } })).toEqual(["fwmark.mask: must fit in 32 bits"]);
  });

  it("matches under the mask only", () => {
    const m = { value: 0x10000000, mask: 0x30000000 };
    expect(markMatches(m, 0x10000000)).toBe(true);
    expect(markMatches(m, 0x90000001)).toBe(true);
    expect(markMatches(m, 0x30000000)).toBe(false);
    expect(markMatches(m, undefined)).toBe(false);
    expect(markMatches(null, 0x30000000)).toBe(true);
  });
});

/** The example policy with three rules for one source that differ only in their further criteria. */
function withCriteriaRules(): Policy {
  const p = examplePolicy();
  const rule = (id: string, seq: number, extra: Partial<Rule>, poolId: string): Rule => ({
    ...zRuleFields.parse({ ...base, source: { kind: "cidrs", cidrs: ["100.64.99.0/24"] } }),
    id,
    seq,
    action: { type: "snat", poolId, algorithm: "sh" },
    ...extra,
  });
  p.rules.push(
    rule("r-plain", 100, {}, "pool-telia-main"),
    rule("r-port", 101, { protocol: "tcp", dstPorts: ["443", "8000-8100"] }, "pool-telia-servers"),
    rule("r-iif", 102, { inInterfaces: ["lan1"] }, "pool-cogent-main"),
    rule("r-mark", 103, { fwmark: { value: 0x10000000, mask: 0xf0000000 } }, "pool-cogent-guest"),
    rule("r-all", 104, { protocol: "udp", dstPorts: ["53"], inInterfaces: ["lan1"] }, "pool-lte"),
  );
  return p;
}

describe("order", () => {
  it("puts rules with more of the further criteria first among equal prefixes, then creation order", () => {
    const ids = orderEntries(withCriteriaRules())
      .filter((e) => e.source.text === "100.64.99.0/24")
      .map((e) => e.rule.id);
    expect(ids).toEqual(["r-all", "r-port", "r-iif", "r-mark", "r-plain"]);
    expect(criteriaCount({})).toBe(0);
  });
});

describe("decide and the renderer", () => {
  const spec = compileGatewaySpec({
    policy: withCriteriaRules(),
    revision: 1,
    clusterId: "c1",
    clusterName: "edge",
    gateway: { id: "g1", name: "gw1" },
    failover: [],
    failoverEpoch: 0,
  });
  const pkt = (over: Partial<Packet>): Packet => ({
    src: "100.64.99.7",
    dst: "203.0.113.99",
    protocol: "tcp",
    srcPort: 40_000,
    dstPort: 22,
    routedIspId: "isp-telia",
    inInterface: "lan0",
    ...over,
  });
  const ruleOf = (p: Packet) => decide(spec, new Map(), p).matched?.ruleId;

  it("decides by port, input interface and mark", () => {
    expect(ruleOf(pkt({}))).toBe("r-plain");
    expect(ruleOf(pkt({ dstPort: 8080 }))).toBe("r-port");
    expect(ruleOf(pkt({ protocol: "udp", dstPort: 8080 }))).toBe("r-plain");
    expect(ruleOf(pkt({ inInterface: "lan1" }))).toBe("r-iif");
    expect(ruleOf(pkt({ inInterface: "lan1", protocol: "udp", dstPort: 53 }))).toBe("r-all");
    expect(ruleOf(pkt({ mark: 0x10000000 }))).toBe("r-mark");
    expect(ruleOf(pkt({ mark: 0x10000001 }))).toBe("r-mark");
    expect(ruleOf(pkt({ mark: 0x20000000 }))).toBe("r-plain");
    const misses = decide(spec, new Map(), pkt({})).misses.filter((m) => m.entry.source === "100.64.99.0/24");
    expect(misses.map((m) => m.reason)).toEqual(["protocol", "port", "interface", "mark"]);
  });

  it("renders the criteria as nft statements with the operator's mask", () => {
    const text = renderRuleset(spec, new Map());
    expect(text).toContain("meta l4proto tcp th dport { 443, 8000-8100 } goto");
    expect(text).toContain('meta l4proto udp th dport 53 iifname "lan1" goto');
    expect(text).toContain('iifname "lan1" goto');
    expect(text).toContain("meta mark & 0xf0000000 == 0x10000000 goto");
  });

  it("a spec without the criteria is the same as before they existed", () => {
    const plain = compileGatewaySpec({
      policy: examplePolicy(),
      revision: 1,
      clusterId: "c1",
      clusterName: "edge",
      gateway: { id: "g1", name: "gw1" },
      failover: [],
      failoverEpoch: 0,
    });
    for (const e of plain.entries) {
      expect(Object.keys(e)).not.toContain("dstPorts");
      expect(Object.keys(e)).not.toContain("fwmark");
    }
  });
});

describe("documents and change text", () => {
  it("writes the criteria and reads them back", () => {
    const policy = withCriteriaRules();
    const text = writePolicyDocument(policy, "edge");
    expect(text).toContain("dports:");
    expect(text).toContain("fwmark: 0x10000000/0xf0000000");
    const back = readPolicyDocument(text, { existing: policy });
    expect(back.errors).toEqual([]);
    const byId = new Map(back.policy.rules.map((r) => [r.id, r]));
    expect(byId.get("r-all")).toMatchObject({ dstPorts: ["53"], inInterfaces: ["lan1"], protocol: "udp" });
    expect(byId.get("r-mark")?.fwmark).toEqual({ value: 0x10000000, mask: 0xf0000000 });
    expect(writePolicyDocument(back.policy, "edge")).toBe(text);
  });

  it("names a bad fwmark and bad ports in a document", () => {
    const policy = withCriteriaRules();
    const text = writePolicyDocument(policy, "edge")
      .replace("fwmark: 0x10000000/0xf0000000", "fwmark: 0x1/0xff")
      .replace("- 8000-8100", "- 9000-8000");
    const back = readPolicyDocument(text, { existing: policy });
    expect(back.errors.join("\n")).toMatch(/rule \d+ fwmark: mask uses bits Gatehouse writes itself/);
    const again = readPolicyDocument(writePolicyDocument(policy, "edge").replace("- 8000-8100", "- 9000-8000"), {
      existing: policy,
    });
    expect(again.errors.join("\n")).toMatch(/destination port 2.*first port must not be above the last/);
  });

  it("says 'any' for criteria a rule does not set", () => {
    const names = nameLookup(examplePolicy());
    expect(valueText("rule", "dstPorts", undefined, names)).toBe("any");
    expect(valueText("rule", "dstPorts", ["443", "8000-8100"], names)).toBe("443, 8000-8100");
    expect(valueText("rule", "fwmark", { value: 0x10000000, mask: 0xf0000000 }, names)).toBe(
      "mark 0x10000000/0xf0000000",
    );
    expect(valueText("rule", "fwmark", null, names)).toBe("any");
  });

  it("the example policy stays free of issues", () => {
    expect(validatePolicy(withCriteriaRules())).toEqual([]);
  });
});

describe("warnings", () => {
  it("a rule with further criteria shadows nothing; one without still does", () => {
    const p = withCriteriaRules();
    const ws = policyWarnings(p).filter((w) => w.code === "rule-shadowed");
    expect(ws.map((w) => w.id)).toEqual([]);
    // a second plain rule for the same networks is shadowed by the first plain one
    const plain = p.rules.find((r) => r.id === "r-plain") as Rule;
    p.rules.push({ ...plain, id: "r-plain-2", seq: 200 });
    expect(
      policyWarnings(p)
        .filter((w) => w.code === "rule-shadowed")
        .map((w) => w.id),
    ).toEqual(["r-plain-2"]);
  });

  it("an input interface that is not a LAN one, when the cluster names its LAN interfaces", () => {
    const p = withCriteriaRules();
    expect(policyWarnings(p).filter((w) => w.code === "rule-iif-not-lan")).toEqual([]);
    p.settings = { ...p.settings, lanInterfaces: ["lan0"] };
    expect(
      policyWarnings(p)
        .filter((w) => w.code === "rule-iif-not-lan")
        .map((w) => [w.id, w.message]),
    ).toEqual([
      ["r-iif", 'matches input interface "lan1", which is not among the cluster\'s LAN or internal interfaces'],
      ["r-all", 'matches input interface "lan1", which is not among the cluster\'s LAN or internal interfaces'],
    ]);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileGatewaySpec } from "../policy/compile";
import { type Policy, zPolicy } from "../policy/model";
import { orderRules } from "../policy/order";
import { decide, type Packet } from "../spec/decide";
import { emptyPolicy, importPolicy, type ImportResult } from "./index";

/**
 * CHROUTE lines (mangle PREROUTING) with SNAT and RETURN lines (nat POSTROUTING): whatever the
 * cluster's rule order, the imported rules decide every connection as the iptables chains do.
 * A CHROUTE's traffic is translated by the first nat rule for the new gateway's interface that
 * matches it, so a RETURN for part of it keeps that part un-NATed.
 */

const text = readFileSync(join(__dirname, "__samples__", "chroute-order.iptables-save"), "utf8");

const isp = (id: string, index: number, name: string, iface: string, nextHop: string) => ({
  id,
  index,
  name,
  interface: iface,
  nextHop,
});

/** Telia (eth1) and Cogent (eth2); with `existing`, one rule of the operator's already in the draft. */
function cluster(ruleOrder: "list" | "specificity" | null, existing: boolean): Policy {
  const base = emptyPolicy();
  return zPolicy.parse({
    ...base,
    settings: { ...base.settings, ...(ruleOrder === null ? {} : { ruleOrder }) },
    isps: [isp("isp-telia", 1, "telia", "eth1", "198.51.100.1"), isp("isp-cogent", 2, "cogent", "eth2", "203.0.113.1")],
    pools: existing ? [{ id: "pool-old", name: "old", ispId: "isp-telia", addresses: ["198.51.100.30"] }] : [],
    rules: existing
      ? [
          {
            id: "rule-old",
            seq: 0,
            priority: null,
            source: { kind: "cidrs", cidrs: ["10.99.0.0/16"] },
            action: { type: "snat", poolId: "pool-old", algorithm: "sh" },
          },
        ]
      : [],
  });
}

type Outcome = ["snat", string, string] | ["forward", string] | ["drop"];

/**
 * What the iptables chains do with each connection: the CHROUTE lines pick the gateway (first
 * match, mangle PREROUTING), then the first nat POSTROUTING line for the interface it leaves by.
 */
const CASES: Array<{ what: string; packet: Partial<Packet>; iptables: Outcome }> = [
  {
    what: "a partner address routed via telia: CHROUTE line 6 sends it via cogent, where RETURN (line 12) keeps it un-NATed",
    packet: { src: "100.64.129.7", routedIspId: "isp-telia" },
    iptables: ["forward", "isp-cogent"],
  },
  {
    what: "a guest routed via telia: CHROUTE line 6, then line 13's cogent addresses (not line 17's RETURN, which the /17 shadows)",
    packet: { src: "100.64.130.7", routedIspId: "isp-telia" },
    iptables: ["snat", "isp-cogent", "203.0.113.10-203.0.113.13"],
  },
  {
    what: "the last guest address of the /20 routed via telia: CHROUTE line 6, SNAT to cogent",
    packet: { src: "100.64.143.250", routedIspId: "isp-telia" },
    iptables: ["snat", "isp-cogent", "203.0.113.10-203.0.113.13"],
  },
  {
    what: "outside the /20, routed via telia: no CHROUTE; line 14 (the /17) comes before line 15",
    packet: { src: "100.64.150.7", routedIspId: "isp-telia" },
    iptables: ["snat", "isp-telia", "198.51.100.20"],
  },
  {
    what: "an office address routed via telia: line 15",
    packet: { src: "100.64.1.7", routedIspId: "isp-telia" },
    iptables: ["snat", "isp-telia", "198.51.100.10-198.51.100.13"],
  },
  {
    what: "a guest routed via cogent already: CHROUTE line 6 wants the old gw telia, so line 13 decides",
    packet: { src: "100.64.130.7", routedIspId: "isp-cogent" },
    iptables: ["snat", "isp-cogent", "203.0.113.10-203.0.113.13"],
  },
  {
    what: "a partner address routed via cogent: RETURN (line 12)",
    packet: { src: "100.64.129.7", routedIspId: "isp-cogent" },
    iptables: ["forward", "isp-cogent"],
  },
  {
    what: "UDP from 100.64.200.0/24 routed via telia: CHROUTE line 7 (any old gw), then line 13",
    packet: { src: "100.64.200.9", protocol: "udp", dstPort: 53, routedIspId: "isp-telia" },
    iptables: ["snat", "isp-cogent", "203.0.113.10-203.0.113.13"],
  },
  {
    what: "TCP from 100.64.200.0/24 routed via telia: CHROUTE line 7 is udp only, so line 14",
    packet: { src: "100.64.200.9", routedIspId: "isp-telia" },
    iptables: ["snat", "isp-telia", "198.51.100.20"],
  },
];

function outcome(r: ImportResult, p: Partial<Packet>): Outcome {
  const spec = compileGatewaySpec({
    policy: r.policy,
    revision: 1,
    clusterId: "c1",
    clusterName: "edge",
    gateway: { id: "g1", name: "gw1" },
    failover: [],
    failoverEpoch: 0,
  });
  const d = decide(spec, new Map(), {
    src: "100.64.1.7",
    dst: "192.0.2.80",
    protocol: "tcp",
    srcPort: 40_000,
    dstPort: 443,
    routedIspId: null,
    ...p,
  });
  const v = d.verdict;
  if (v.kind === "snat") {
    return ["snat", v.ispId, r.policy.pools.find((x) => x.id === v.poolId)?.addresses.join(",") ?? v.poolId];
  }
  if (v.kind === "forward") return ["forward", v.ispId];
  return ["drop"];
}

const line = (r: ImportResult, n: number) => r.lines.find((l) => l.line === n);

describe.each([
  { mode: "a cluster without rules (the import makes it list-ordered)", order: null, existing: false },
  {
    mode: "a list-ordered cluster with a rule (the import goes to the end of the list)",
    order: "list",
    existing: true,
  },
  {
    mode: "a most-specific-first cluster with a rule (the import pins priorities)",
    order: "specificity",
    existing: true,
  },
] as const)("CHROUTE, SNAT and RETURN lines imported into $mode", ({ order, existing }) => {
  const r = importPolicy(text, cluster(order, existing));

  it("imports every line without problems", () => {
    expect(r.problems).toEqual([]);
    expect(r.questions).toEqual([]);
    expect(r.lines.filter((l) => l.status === "not-imported")).toEqual([]);
    expect(r.policy.settings.ruleOrder ?? "specificity").toBe(order === "specificity" ? "specificity" : "list");
  });

  it.each(CASES)("$what", ({ packet, iptables }) => {
    expect(outcome(r, packet)).toEqual(iptables);
  });

  it("orders the rules as the chains are read: CHROUTE lines first, then the nat lines, each in file order", () => {
    const imported = orderRules(r.policy)
      .map((o) => o.rule)
      .filter((x) => x.id !== "rule-old")
      .map((x) => `${x.comment}: ${x.source.kind === "cidrs" ? x.source.cidrs[0] : ""}`);
    expect(imported).toEqual([
      "guests via cogent: 100.64.129.0/24",
      "guests via cogent: 100.64.128.0/20",
      "CHROUTE line 7: 100.64.200.0/24",
      "iptables line 12: 100.64.129.0/24",
      "iptables line 13: 100.64.0.0/16",
      "iptables line 14: 100.64.128.0/17",
      "iptables line 15: 100.64.0.0/16",
      "iptables line 17: 100.64.130.0/24",
    ]);
  });

  it("says which nat rule translates each part of a CHROUTE line's traffic", () => {
    expect(line(r, 6)?.status).toBe("imported");
    expect(line(r, 6)?.message).toMatch(
      /^imported as 2 rules: rule.* from 100\.64\.129\.0\/24 .*: no NAT \(exclude\), redirected via ISP "cogent".*translated as the POSTROUTING rule of line 12 translates it there \(only the part of the line's traffic that rule matches\); rule.*translated as the POSTROUTING rule of line 13 translates it there$/,
    );
    expect(line(r, 7)?.message).toMatch(/^imported as rule.*udp.*line 13 translates it there$/);
  });
});

describe("a CHROUTE line that nat rules translate only in part", () => {
  it("imports the parts they translate and says the rest is not redirected", () => {
    const r = importPolicy(
      [
        "*mangle",
        "-A PREROUTING -s 100.64.128.0/20 -j CHROUTE --gw 203.0.113.1 --old-gw 198.51.100.1",
        "COMMIT",
        "*nat",
        "-A POSTROUTING -s 100.64.129.0/24 -o eth2 -j SNAT --to-source 203.0.113.20",
        "-A POSTROUTING -s 100.64.0.0/16 -o eth1 -j SNAT --to-source 198.51.100.10-198.51.100.13",
        "COMMIT",
        "",
      ].join("\n"),
      cluster(null, false),
    );
    expect(r.problems).toEqual([]);
    expect(line(r, 2)?.message).toMatch(
      /^imported as rule.*from 100\.64\.129\.0\/24.*redirected via ISP "cogent".*line 5 translates it there.*; the rest of the line's traffic is not redirected: no POSTROUTING rule here translates it through cogent \(gw 203\.0\.113\.1\)$/,
    );
    expect(outcome(r, { src: "100.64.129.1", routedIspId: "isp-telia" })).toEqual([
      "snat",
      "isp-cogent",
      "203.0.113.20",
    ]);
    expect(outcome(r, { src: "100.64.130.1", routedIspId: "isp-telia" })).toEqual([
      "snat",
      "isp-telia",
      "198.51.100.10-198.51.100.13",
    ]);
  });
});

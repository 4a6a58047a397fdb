import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, type FailoverState, type Packet } from "../spec/decide";
import { jhash, reciprocalScale, registerBytes } from "../spec/jhash";
import type { GatewaySpec } from "../spec/schema";
import { compileGatewaySpec } from "./compile";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import type { Policy } from "./model";
import { type RoutedSimulation, simulatePacket, simulateRouting } from "./simulate";
import { entry, gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";

function specOf(policy: Policy): GatewaySpec {
  return compileGatewaySpec({
    policy,
    revision: 1,
    clusterId: "c1",
    clusterName: "edge",
    gateway: { id: "g1", name: "gw1" },
    failover: [],
    failoverEpoch: 0,
  });
}
const spec = specOf(examplePolicy());
const none: FailoverState = new Map();
const tcp = (src: string, dst: string, routedIspId: string | null, over: Partial<Packet> = {}): Packet => ({
  src,
  dst,
  protocol: "tcp",
  srcPort: 40_000,
  dstPort: 443,
  routedIspId,
  ...over,
});

describe("simulatePacket", () => {
  it("explains a SNAT decision: rule, address, route and the rules passed over", () => {
    const sim = simulatePacket(spec, none, tcp("100.64.1.20", "203.0.113.99", "isp-telia"));
    expect(sim.outcome).toBe("snat");
    expect(sim.matched).toMatchObject({ ruleId: "rule-office-telia", position: 3 });
    // the address nft's jhash picks: source address bytes, the cluster seed, 8 buckets
    const bucket = reciprocalScale(jhash(registerBytes([{ value: 0x64400114, width: 4 }]), 0x5eed), 8);
    expect(sim.snat).toEqual({
      poolId: "pool-telia-main",
      poolName: "telia-main",
      algorithm: "sh",
      address: `198.51.100.${10 + bucket}`,
      candidates: Array.from({ length: 8 }, (_, i) => `198.51.100.${10 + i}`),
      portRange: null,
    });
    expect(sim.route).toEqual({ ispId: "isp-telia", ispName: "telia", nextHop: "198.51.100.1", interface: "eth1" });
    expect(sim.skipped).toEqual([
      { ruleId: "rule-lab-dns", position: 1, reasons: ["source 100.64.1.20 is not in 100.64.20.0/24"] },
      { ruleId: "rule-partner", position: 2, reasons: ["destination 203.0.113.99 is not in 198.51.100.128/25"] },
    ]);
    expect(sim.summary).toBe(
      `Rule #3 translates the source to 198.51.100.${10 + bucket} (source hash over 8 addresses) from pool "telia-main" via 198.51.100.1 on eth1 (ISP "telia").`,
    );
    expect(sim.notes).toEqual([]);
  });

  it("is decide's decision, explained", () => {
    const packet = tcp("100.64.20.9", "203.0.113.99", "isp-cogent", { protocol: "udp" });
    expect(simulatePacket(spec, none, packet).decision).toEqual(decide(spec, none, packet));
  });

  it("says why each earlier rule did not match: egress and protocol", () => {
    const sim = simulatePacket(spec, none, tcp("100.64.20.9", "203.0.113.53", "isp-cogent"));
    expect(sim.matched?.ruleId).toBe("rule-lab-cogent");
    const reasons = Object.fromEntries(sim.skipped.map((s) => [s.ruleId, s.reasons]));
    expect(reasons["rule-lab-dns"]).toEqual(["protocol tcp is not udp"]);
    expect(reasons["rule-lab-telia"]).toEqual([
      'routing picked ISP "cogent", but the rule matches only traffic leaving via "telia"',
    ]);
    expect(reasons["rule-office-telia"]).toEqual(["source 100.64.20.9 is not in 100.64.1.0/24 or 100.64.2.0/24"]);
    expect(sim.skipped.map((s) => s.position)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sim.snat?.address).toBeNull(); // round robin: decided per connection
    expect(sim.summary).toContain("one of 8 addresses, chosen per connection (round robin)");
  });

  it("explains drops by a rule and of unmatched traffic", () => {
    const byRule = simulatePacket(
      spec,
      none,
      tcp("100.64.20.9", "203.0.113.53", "isp-telia", { protocol: "udp", dstPort: 53 }),
    );
    expect(byRule.outcome).toBe("drop");
    expect(byRule.summary).toBe("Rule #1 drops the connection.");
    expect(byRule.route).toBeNull();

    const unmatched = simulatePacket(spec, none, tcp("100.64.99.1", "203.0.113.9", "isp-telia"));
    expect(unmatched.outcome).toBe("drop");
    expect(unmatched.matched).toBeNull();
    expect(unmatched.summary).toBe("No rule matches and the cluster drops unmatched traffic leaving through an ISP.");
    expect(unmatched.skipped).toHaveLength(10); // every enabled rule was tried
  });

  it("explains forwarding: excluded, and unmatched when the cluster forwards", () => {
    const excluded = simulatePacket(spec, none, tcp("100.64.2.7", "198.51.100.200", "isp-telia"));
    expect(excluded.outcome).toBe("forward");
    expect(excluded.summary).toBe(
      'Rule #2 excludes the connection from NAT: it leaves with its own source address via 198.51.100.1 on eth1 (ISP "telia").',
    );
    const p = examplePolicy();
    p.settings.unmatched = "forward";
    const sim = simulatePacket(specOf(p), none, tcp("100.64.99.1", "203.0.113.9", "isp-cogent"));
    expect(sim.summary).toBe(
      'No rule matches; the cluster forwards unmatched traffic without NAT via 203.0.113.1 on eth2 (ISP "cogent").',
    );
  });

  it("leaves alone what routing does not send to an ISP", () => {
    const sim = simulatePacket(spec, none, tcp("100.64.1.20", "100.64.10.5", null));
    expect(sim.outcome).toBe("not-egress");
    expect(sim.summary).toContain("leaves it alone");
  });

  it("notes redirects and port ranges", () => {
    const sim = simulatePacket(spec, none, tcp("100.64.130.9", "203.0.113.99", "isp-telia", { protocol: "udp" }));
    expect(sim.matched?.ruleId).toBe("rule-guest");
    expect(sim.route?.ispId).toBe("isp-cogent");
    expect(sim.notes).toEqual([
      'The rule redirects the connection to ISP "cogent" instead of "telia", which routing picked.',
      "Source ports are taken from 10000-60999.",
    ]);
  });

  it("notes a failover and which pool replaces the rule's pool", () => {
    const viaDefault = simulatePacket(
      spec,
      new Map([["isp-telia", "isp-lte"]]),
      tcp("100.64.1.20", "203.0.113.99", "isp-telia"),
    );
    expect(viaDefault.route).toEqual({
      ispId: "isp-lte",
      ispName: "lte-backup",
      nextHop: "100.127.255.1",
      interface: "wwan0",
    });
    expect(viaDefault.snat?.poolId).toBe("pool-lte");
    expect(viaDefault.notes).toEqual([
      'ISP "telia" is failed over to "lte-backup": the connection leaves through the backup.',
      'It uses pool "lte" (the backup ISP\'s default pool) instead of the rule\'s pool "telia-main".',
    ]);

    const viaFallback = simulatePacket(
      spec,
      new Map([["isp-cogent", "isp-telia"]]),
      tcp("100.64.10.3", "203.0.113.99", "isp-cogent"),
    );
    expect(viaFallback.matched?.ruleId).toBe("rule-servers-cogent");
    expect(viaFallback.snat?.poolId).toBe("pool-telia-servers");
    expect(viaFallback.notes[1]).toBe(
      'It uses pool "telia-servers" (the rule\'s fallback pool) instead of the rule\'s pool "cogent-main".',
    );
  });

  it("matches decide for any packet, and lists only rules tried before the match", () => {
    const p = generatePolicy({ rules: 40, seed: 21, overlapping: true });
    const s = specOf(p);
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        octet,
        octet,
        octet,
        fc.constantFrom("tcp", "udp", "icmp" as const),
        fc.constantFrom(...p.isps.map((i) => i.id)),
        (a, b, c, protocol, isp) => {
          const packet: Packet = {
            src: `100.64.${a & 3}.${b}`,
            dst: `203.0.113.${c}`,
            protocol,
            srcPort: 1234,
            dstPort: 80,
            routedIspId: isp,
          };
          const sim = simulatePacket(s, none, packet);
          const d = decide(s, none, packet);
          expect(sim.matched?.ruleId ?? null).toBe(d.matched?.ruleId ?? null);
          const tried = new Set(d.misses.map((m) => m.entry.ruleId));
          for (const skipped of sim.skipped) {
            expect(tried.has(skipped.ruleId)).toBe(true);
            expect(skipped.ruleId).not.toBe(d.matched?.ruleId);
            expect(skipped.reasons.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("simulateRouting", () => {
  const spec = gatewaySpec({
    isps: [
      isp("a", 1, "ispa", "100.65.1.2", [{ ispId: "b", defaultPoolId: "pb" }]),
      isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa" }]),
    ],
    pools: [pool("pa", "a", ["198.51.100.10"]), pool("pb", "b", ["198.51.100.130"])],
    entries: [
      entry("100.64.0.0/10", { snat: "pa" }, { egress: "a" }),
      entry("100.64.0.0/10", { snat: "pb" }, { egress: "b" }),
    ],
  });
  const packet = { src: "100.64.1.2", dst: "203.0.113.10", protocol: "tcp" as const, srcPort: 40000, dstPort: 443 };
  const outcome = (r: RoutedSimulation) => {
    const v = r.simulation.decision.verdict;
    return [r.routedIspId, v.kind, v.kind === "snat" ? v.poolId : null, r.simulation.decision.retried];
  };

  it("answers that routing chose no ISP", () => {
    const [only] = simulateRouting(spec, new Map(), packet, { kind: "none" });
    expect(only?.simulation.outcome).toBe("not-egress");
  });

  it("answers per next hop when routing spreads connections over several ISPs", () => {
    expect(simulateRouting(spec, new Map(), packet, { kind: "ecmp", ispIds: ["a", "b"] }).map(outcome)).toEqual([
      ["a", "snat", "pa", false],
      ["b", "snat", "pb", false],
    ]);
  });

  it("with a failed over ISP behind the first next hop, the connections the hash sends there are retried through the backup", () => {
    const failover = new Map([["a", "b"]]);
    // b first: the lookup says b, which needs no reroute; the kernel's hash may still pick a
    const results = simulateRouting(spec, failover, packet, { kind: "ecmp", ispIds: ["b", "a"] });
    expect(results.map(outcome)).toEqual([
      ["b", "snat", "pb", false],
      ["a", "snat", "pb", true],
    ]);
    expect(results[1]?.simulation.notes.join(" ")).toMatch(
      /reports ISP "b", the first next hop, but the kernel sends this connection via "a": its first packet is dropped and its retransmission rerouted/,
    );
    // a first: the lookup says a, so every connection is rerouted before routing, none retried
    expect(simulateRouting(spec, failover, packet, { kind: "ecmp", ispIds: ["a", "b"] }).map(outcome)).toEqual([
      ["a", "snat", "pb", false],
      ["b", "snat", "pb", false],
    ]);
  });
});

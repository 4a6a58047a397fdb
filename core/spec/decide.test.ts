import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGatewaySpec } from "../policy/compile";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import type { Policy } from "../policy/model";
import { adminFailoverState, decide, entryMiss, type Packet, type PacketProtocol, pickAddress } from "./decide";
import { jhash, reciprocalScale, registerBytes } from "./jhash";
import type { GatewaySpec, SpecEntry, SpecPool } from "./schema";

function specOf(policy: Policy, failover: Parameters<typeof compileGatewaySpec>[0]["failover"] = []): GatewaySpec {
  return compileGatewaySpec({
    policy,
    revision: 1,
    clusterId: "c1",
    clusterName: "edge",
    gateway: { id: "g1", name: "gw1" },
    failover,
    failoverEpoch: 0,
  });
}
const example = specOf(examplePolicy());
const none = new Map<string, string>();
const packet = (over: Partial<Packet>): Packet => ({
  src: "100.64.1.20",
  dst: "203.0.113.99",
  protocol: "tcp",
  srcPort: 40_000,
  dstPort: 443,
  routedIspId: "isp-telia",
  ...over,
});

/** Dotted quad to number, written here without net.ts so the checks below do not share its code. */
const num = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split("/");
  const size = 2 ** (32 - Number(len));
  return Math.floor(num(ip) / size) === Math.floor(num(base ?? "") / size);
}

describe("decide: matching", () => {
  it("takes the first entry in spec order that matches, even if a later one is more specific", () => {
    const entry = (ruleId: string, source: string): SpecEntry => ({
      ruleId,
      rulePosition: 1,
      source,
      destination: null,
      protocol: "any",
      egressIspId: null,
      action: { type: "exclude" },
      redirectIspId: null,
      fallbackPoolId: null,
      onFailover: "follow",
      failoverIspId: null,
    });
    const spec = { ...example, entries: [entry("wide", "100.64.0.0/10"), entry("narrow", "100.64.1.20/32")] };
    const d = decide(spec, none, packet({}));
    expect(d.matched?.ruleId).toBe("wide");
    expect(d.misses).toEqual([]);
  });

  it("checks source, destination, protocol and egress, reporting the first that fails", () => {
    const e: SpecEntry = {
      ruleId: "r",
      rulePosition: 1,
      source: "100.64.1.0/24",
      destination: "203.0.113.0/25",
      protocol: "udp",
      egressIspId: "isp-cogent",
      action: { type: "drop" },
      redirectIspId: null,
      fallbackPoolId: null,
      onFailover: "follow",
      failoverIspId: null,
    };
    expect(entryMiss(e, packet({ src: "100.64.2.1" }))).toBe("source");
    expect(entryMiss(e, packet({ dst: "203.0.113.200" }))).toBe("destination");
    expect(entryMiss(e, packet({ dst: "203.0.113.9" }))).toBe("protocol");
    expect(entryMiss(e, packet({ dst: "203.0.113.9", protocol: "udp" }))).toBe("egress");
    expect(entryMiss(e, packet({ dst: "203.0.113.9", protocol: "udp", routedIspId: "isp-cogent" }))).toBeNull();
    expect(
      entryMiss({ ...e, destination: null, protocol: "any", egressIspId: null }, packet({ protocol: "icmp" })),
    ).toBeNull();
  });

  it("records every entry tried before the match with its reason", () => {
    const d = decide(example, none, packet({ src: "100.64.20.9", routedIspId: "isp-cogent" }));
    expect(d.matched?.ruleId).toBe("rule-lab-cogent");
    expect(example.entries.indexOf(d.matched as SpecEntry)).toBe(d.misses.length);
    expect(d.misses.map((m) => [m.entry.ruleId, m.reason])).toContainEqual(["rule-lab-telia", "egress"]);
    expect(d.misses.map((m) => [m.entry.ruleId, m.reason])).toContainEqual(["rule-lab-dns", "destination"]);
  });

  it("leaves alone connections routing does not send out through a known ISP", () => {
    expect(decide(example, none, packet({ routedIspId: null })).verdict).toEqual({ kind: "not-egress" });
    expect(decide(example, none, packet({ routedIspId: "isp-unknown" })).verdict).toEqual({ kind: "not-egress" });
  });

  it("drops unmatched traffic, or forwards it un-NATed when the cluster says so", () => {
    const drop = decide(example, none, packet({ src: "100.64.99.1" }));
    expect(drop.verdict).toEqual({ kind: "drop", why: "unmatched" });
    expect([drop.nextHop, drop.interface]).toEqual([null, null]);
    expect(drop.misses).toHaveLength(example.entries.length);
    const forwarding = { ...example, settings: { ...example.settings, unmatched: "forward" as const } };
    const fwd = decide(forwarding, none, packet({ src: "100.64.99.1" }));
    expect(fwd.verdict).toEqual({ kind: "forward", why: "unmatched", ispId: "isp-telia" });
    expect([fwd.nextHop, fwd.interface]).toEqual(["198.51.100.1", "eth1"]);
  });

  it("forwards excluded traffic and drops what a drop rule matches", () => {
    expect(decide(example, none, packet({ dst: "198.51.100.130" })).verdict).toEqual({
      kind: "forward",
      why: "exclude",
      ispId: "isp-telia",
    });
    const dropped = decide(example, none, packet({ src: "100.64.20.1", dst: "203.0.113.53", protocol: "udp" }));
    expect(dropped.verdict).toEqual({ kind: "drop", why: "rule" });
    expect(dropped.nextHop).toBeNull();
  });
});

describe("decide: pool addresses", () => {
  const pool: SpecPool = {
    id: "p",
    name: "p",
    ispId: "isp-telia",
    mode: "routed",
    addresses: ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"],
    portRange: null,
  };
  const seed = 0x5eed;

  it("hashes the source for sh, as nft's jhash over the address register", () => {
    const p = packet({ src: "100.64.1.10" });
    const expected = reciprocalScale(jhash(Uint8Array.from([100, 64, 1, 10]), seed), 5);
    expect(pickAddress(pool, "sh", p, seed)).toBe(pool.addresses[expected]);
  });

  it("hashes source and destination for sdh, and the 5-tuple for sdph", () => {
    const p = packet({ src: "100.64.1.10", dst: "203.0.113.5", srcPort: 50_000, dstPort: 443 });
    const sdh = reciprocalScale(jhash(Uint8Array.from([100, 64, 1, 10, 203, 0, 113, 5]), seed), 5);
    expect(pickAddress(pool, "sdh", p, seed)).toBe(pool.addresses[sdh]);
    // 0xd9cea7bb is the C reference value of this 5-tuple register layout with seed 0x5eed
    expect(pickAddress(pool, "sdph", p, seed)).toBe(pool.addresses[reciprocalScale(0xd9cea7bb, 5)]);
    expect(pickAddress(pool, "sdph", { ...p, protocol: "icmp" }, seed)).toBe(pool.addresses[sdh]);
  });

  it("leaves random and round robin to the kernel", () => {
    expect(pickAddress(pool, "random", packet({}), seed)).toBeNull();
    expect(pickAddress(pool, "rr", packet({}), seed)).toBeNull();
  });

  it("gives a client the same address every time, and spreads clients over the pool", () => {
    const seen = new Set<string | null>();
    for (let i = 0; i < 256; i++) {
      const p = packet({ src: `100.64.7.${i}` });
      const first = pickAddress(pool, "sh", p, seed);
      expect(pickAddress(pool, "sh", p, seed)).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(5);
  });

  it("uses the register layout for the ports and protocol", () => {
    const p = packet({ src: "100.64.1.10", dst: "203.0.113.5", protocol: "udp", srcPort: 5353, dstPort: 53 });
    const key = registerBytes([
      { value: num("100.64.1.10"), width: 4 },
      { value: num("203.0.113.5"), width: 4 },
      { value: 17, width: 1 },
      { value: 5353, width: 2 },
      { value: 53, width: 2 },
    ]);
    expect(pickAddress(pool, "sdph", p, seed)).toBe(pool.addresses[reciprocalScale(jhash(key, seed), 5)]);
  });
});

describe("decide: redirect and failover", () => {
  it("sends a redirected connection through the redirect ISP", () => {
    const d = decide(example, none, packet({ src: "100.64.130.1" }));
    expect(d.matched?.ruleId).toBe("rule-guest");
    expect([d.reroutedTo, d.nextHop, d.interface]).toEqual(["isp-cogent", "203.0.113.1", "eth2"]);
    expect(d.verdict).toMatchObject({ kind: "snat", ispId: "isp-cogent", poolId: "pool-cogent-guest" });
  });

  it("moves a failed-over ISP's connections to the backup with its default pool", () => {
    const d = decide(example, new Map([["isp-telia", "isp-cogent"]]), packet({}));
    expect(d.failedOverFrom).toBe("isp-telia");
    expect(d.reroutedTo).toBe("isp-cogent");
    expect(d.verdict).toMatchObject({ kind: "snat", ispId: "isp-cogent", poolId: "pool-cogent-main" });
  });

  it("prefers the rule's fallback pool to the backup's default pool", () => {
    const d = decide(
      example,
      new Map([["isp-cogent", "isp-telia"]]),
      packet({ src: "100.64.10.3", routedIspId: "isp-cogent" }),
    );
    expect(d.verdict).toMatchObject({ kind: "snat", ispId: "isp-telia", poolId: "pool-telia-servers" });
  });

  it("keeps the rule's pool when the plan has no pool for that backup", () => {
    const p = examplePolicy();
    (p.isps[2] as { defaultPoolId: string | null }).defaultPoolId = null;
    const spec = specOf(p);
    const d = decide(spec, new Map([["isp-telia", "isp-lte"]]), packet({}));
    expect(d.verdict).toMatchObject({ kind: "snat", ispId: "isp-lte", poolId: "pool-telia-main" });
  });

  it("fails over the redirect target, not the ISP routing picked", () => {
    const d = decide(
      example,
      new Map([["isp-cogent", "isp-telia"]]),
      packet({ src: "100.64.130.1", routedIspId: "isp-lte" }),
    );
    expect(d.failedOverFrom).toBe("isp-cogent");
    expect(d.verdict).toMatchObject({ kind: "snat", ispId: "isp-telia" });
    const unaffected = decide(
      example,
      new Map([["isp-lte", "isp-telia"]]),
      packet({ src: "100.64.130.1", routedIspId: "isp-lte" }),
    );
    expect(unaffected.failedOverFrom).toBeNull();
  });

  it("ignores a failover to an ISP the spec does not know", () => {
    const d = decide(example, new Map([["isp-telia", "isp-gone"]]), packet({}));
    expect(d.failedOverFrom).toBeNull();
    expect(d.verdict).toMatchObject({ ispId: "isp-telia" });
  });

  it("reads the console's failover decisions from the spec", () => {
    const spec = specOf(examplePolicy(), [
      { ispId: "isp-telia", adminState: "failed_over", backupIspId: null },
      { ispId: "isp-cogent", adminState: "failed_over", backupIspId: null },
      { ispId: "isp-lte", adminState: "failed_over", backupIspId: null },
    ]);
    expect([...adminFailoverState(spec)]).toEqual([
      ["isp-telia", "isp-cogent"],
      ["isp-cogent", "isp-telia"],
    ]);
    const chosen = specOf(examplePolicy(), [{ ispId: "isp-telia", adminState: "failed_over", backupIspId: "isp-lte" }]);
    expect([...adminFailoverState(chosen)]).toEqual([["isp-telia", "isp-lte"]]);
    expect([...adminFailoverState(example)]).toEqual([]);
  });
});

describe("decide against brute force", () => {
  const protocols: PacketProtocol[] = ["tcp", "udp", "icmp"];

  it("matches the first entry an independent matcher finds, and the rule the documented order prefers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.array(fc.tuple(fc.nat(1023), fc.nat(255), fc.nat(2), fc.nat(2)), { minLength: 1, maxLength: 30 }),
        (seed, probes) => {
          const policy = generatePolicy({ rules: 40, seed, overlapping: true });
          const spec = specOf(policy);
          const zones = new Map(policy.zones.map((z) => [z.id, z.networks]));
          for (const [s, d, pr, isp] of probes) {
            const p = packet({
              src: `100.64.${s >> 8}.${s & 255}`,
              dst: `203.0.113.${d}`,
              protocol: protocols[pr] ?? "tcp",
              routedIspId: policy.isps[isp % policy.isps.length]?.id ?? null,
            });
            const decision = decide(spec, none, p);

            const first = spec.entries.find(
              (e) =>
                inCidr(p.src, e.source) &&
                (e.destination === null || inCidr(p.dst, e.destination)) &&
                (e.protocol === "any" || e.protocol === p.protocol) &&
                (e.egressIspId === null || e.egressIspId === p.routedIspId),
            );
            expect(decision.matched).toBe(first ?? null);

            // straight from docs/semantics.md: the best (priority, source prefix, destination prefix, creation) wins
            let best: { key: number[]; ruleId: string } | null = null;
            for (const rule of policy.rules) {
              if (!rule.enabled) continue;
              if (rule.protocol !== "any" && rule.protocol !== p.protocol) continue;
              if (rule.egressIspId !== null && rule.egressIspId !== p.routedIspId) continue;
              const sources = rule.source.kind === "zone" ? (zones.get(rule.source.zoneId) ?? []) : rule.source.cidrs;
              const dests = rule.destinations.length === 0 ? ["0.0.0.0/0"] : rule.destinations;
              for (const src of sources.filter((c) => inCidr(p.src, c))) {
                for (const dst of dests.filter((c) => inCidr(p.dst, c))) {
                  const key = [
                    rule.priority ?? Number.POSITIVE_INFINITY,
                    -Number(src.split("/")[1]),
                    -Number(dst.split("/")[1]),
                    rule.seq,
                  ];
                  if (best === null || lexLess(key, best.key)) best = { key, ruleId: rule.id };
                }
              }
            }
            expect(decision.matched?.ruleId ?? null).toBe(best?.ruleId ?? null);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) < (b[i] as number);
  }
  return false;
}

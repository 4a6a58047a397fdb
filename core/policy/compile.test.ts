import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { zGatewaySpec } from "../spec/schema";
import { type CompileInput, compileGatewaySpec, PolicyCompileError, poolAddresses } from "./compile";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import type { Policy, Pool } from "./model";
import { orderEntries } from "./order";
import { policyWarnings } from "./warnings";

function input(policy: Policy, over: Partial<CompileInput> = {}): CompileInput {
  return {
    policy,
    revision: 7,
    clusterId: "cluster-fra",
    clusterName: "edge-fra",
    gateway: { id: "gw-1", name: "gw-fra-1" },
    failover: [],
    failoverEpoch: 3,
    ...over,
  };
}

describe("compileGatewaySpec", () => {
  it("compiles the example policy into a spec for one gateway", () => {
    const spec = compileGatewaySpec(input(examplePolicy()));
    expect(spec).toMatchObject({
      specVersion: 1,
      clusterId: "cluster-fra",
      clusterName: "edge-fra",
      gatewayId: "gw-1",
      gatewayName: "gw-fra-1",
      revision: 7,
      failoverEpoch: 3,
      settings: { unmatched: "drop", hashSeed: 0x5eed },
    });
    expect(spec.isps.map((i) => [i.id, i.index, i.interface, i.nextHop])).toEqual([
      ["isp-telia", 1, "eth1", "198.51.100.1"],
      ["isp-cogent", 2, "eth2", "203.0.113.1"],
      ["isp-lte", 3, "wwan0", "100.127.255.1"],
    ]);
  });

  it("passes the cluster's ip rule priority base on, and leaves it out when unset", () => {
    const policy = examplePolicy();
    expect(compileGatewaySpec(input(policy)).settings.ipRulePriorityBase).toBeUndefined();
    const moved = { ...policy, settings: { ...policy.settings, ipRulePriorityBase: 2000 } };
    expect(compileGatewaySpec(input(moved)).settings.ipRulePriorityBase).toBe(2000);
  });

  it("probes the next hop when an ISP has no probe targets", () => {
    const spec = compileGatewaySpec(input(examplePolicy()));
    expect(spec.isps.find((i) => i.id === "isp-telia")?.probeTargets).toEqual(["198.51.100.1"]);
    expect(spec.isps.find((i) => i.id === "isp-cogent")?.probeTargets).toEqual(["203.0.113.1", "203.0.113.2"]);
  });

  it("writes each ISP's failover plan with the backups' default pools", () => {
    const spec = compileGatewaySpec(input(examplePolicy()));
    expect(spec.isps.find((i) => i.id === "isp-telia")?.backups).toEqual([
      { ispId: "isp-cogent", defaultPoolId: "pool-cogent-main" },
      { ispId: "isp-lte", defaultPoolId: "pool-lte" },
    ]);
    expect(spec.isps.find((i) => i.id === "isp-lte")?.backups).toEqual([]);
  });

  it("takes ISP numbers from the stored index, not from list order", () => {
    const p = examplePolicy();
    p.isps.reverse();
    (p.isps[0] as { index: number }).index = 9;
    const spec = compileGatewaySpec(input(p));
    expect(spec.isps.map((i) => [i.id, i.index])).toEqual([
      ["isp-telia", 1],
      ["isp-cogent", 2],
      ["isp-lte", 9],
    ]);
  });

  it("expands pools into every address, in numeric order", () => {
    const spec = compileGatewaySpec(input(examplePolicy()));
    expect(spec.pools.find((p) => p.id === "pool-cogent-guest")).toEqual({
      id: "pool-cogent-guest",
      name: "cogent-guest",
      mode: "routed",
      ispId: "isp-cogent",
      addresses: [
        "203.0.113.64",
        "203.0.113.65",
        "203.0.113.66",
        "203.0.113.67",
        "203.0.113.68",
        "203.0.113.69",
        "203.0.113.70",
        "203.0.113.71",
      ],
      portRange: { from: 10000, to: 60999 },
    });
    const pool: Pool = {
      id: "p",
      name: "p",
      ispId: "i",
      mode: "routed",
      addresses: ["198.51.100.20", "198.51.100.9-198.51.100.10", "198.51.100.100/31"],
      portRange: null,
      comment: "",
    };
    expect(poolAddresses(pool)).toEqual([
      "198.51.100.9",
      "198.51.100.10",
      "198.51.100.20",
      "198.51.100.100",
      "198.51.100.101",
    ]);
  });

  it("emits the ordered entries of enabled rules with their rule positions", () => {
    const spec = compileGatewaySpec(input(examplePolicy()));
    expect(spec.entries[0]).toEqual({
      ruleId: "rule-lab-dns",
      rulePosition: 1,
      ruleSeq: 7,
      source: "100.64.20.0/24",
      destination: "203.0.113.53/32",
      protocol: "udp",
      egressIspId: null,
      action: { type: "drop" },
      redirectIspId: null,
      fallbackPoolId: null,
      onFailover: "follow",
      failoverIspId: null,
    });
    expect(spec.entries.map((e) => e.ruleId)).not.toContain("rule-old-vpn");
    expect(spec.entries).toHaveLength(14);
    // positions never decrease along the entries: a rule sits where its first entry is
    const firstSeen = new Map<string, number>();
    spec.entries.forEach((e, i) => {
      if (!firstSeen.has(e.ruleId)) firstSeen.set(e.ruleId, i);
    });
    const byFirst = [...firstSeen.keys()].map((id) => spec.entries.find((e) => e.ruleId === id)?.rulePosition);
    expect(byFirst).toEqual([...byFirst].sort((a, b) => (a ?? 0) - (b ?? 0)));
    // the disabled rule keeps its place in the numbering, so one position is missing from the entries
    expect(new Set(spec.entries.map((e) => e.rulePosition)).size).toBe(10);
  });

  it("carries the console's failover decisions; a chosen backup must be in the plan", () => {
    const spec = compileGatewaySpec(
      input(examplePolicy(), {
        failover: [
          { ispId: "isp-telia", adminState: "failed_over", backupIspId: "isp-lte" },
          { ispId: "isp-cogent", adminState: "failed_over", backupIspId: "isp-lte" },
          { ispId: "isp-deleted", adminState: "failed_over", backupIspId: null },
        ],
      }),
    );
    const state = Object.fromEntries(spec.isps.map((i) => [i.id, [i.adminState, i.adminBackupIspId]]));
    expect(state).toEqual({
      "isp-telia": ["failed_over", "isp-lte"],
      "isp-cogent": ["failed_over", null],
      "isp-lte": ["active", null],
    });
  });

  it("refuses an invalid policy, naming the problems", () => {
    const p = examplePolicy();
    (p.rules[0] as { egressIspId: string }).egressIspId = "isp-gone";
    let error: unknown;
    try {
      compileGatewaySpec(input(p));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyCompileError);
    expect((error as PolicyCompileError).issues).toHaveLength(1);
    expect((error as Error).message).toBe(
      'the policy has 1 problem: rule #3 "office via Telia": egress ISP "isp-gone" does not exist',
    );
  });

  it("refuses specs the agent would refuse (e.g. a bad gateway name)", () => {
    expect(() => compileGatewaySpec(input(examplePolicy(), { gateway: { id: "gw 1", name: "x" } }))).toThrow();
  });

  describe("pool slices", () => {
    // the example's LTE pool has one address: give it a second so two or three gateways can share it
    const sharable = (): Policy => {
      const p = examplePolicy();
      return {
        ...p,
        pools: p.pools.map((x) => (x.id === "pool-lte" ? { ...x, addresses: ["100.127.255.2-100.127.255.4"] } : x)),
      };
    };
    const gateways = ["gw-1", "gw-2", "gw-3"];
    const specFor = (p: Policy, id: string, ids: string[]) =>
      compileGatewaySpec(
        input(p, { gateway: { id, name: id }, gateways: ids.map((g) => ({ id: g, name: g, drained: false })) }),
      );

    it("gives each gateway of an active cluster a disjoint slice of every pool, together the whole pool", () => {
      const p = sharable();
      const specs = gateways.map((g) => specFor(p, g, gateways));
      for (const pool of p.pools) {
        const slices = specs.map((s) => s.pools.find((x) => x.id === pool.id)?.addresses ?? []);
        for (const slice of slices) expect(slice.length).toBeGreaterThanOrEqual(1);
        const all = slices.flat();
        expect(new Set(all).size).toBe(all.length);
        expect([...all].sort()).toEqual([...poolAddresses(pool)].sort());
      }
      // everything else is the same for every gateway
      const strip = (s: ReturnType<typeof specFor>) => ({ ...s, gatewayId: "", gatewayName: "", pools: [] });
      expect(strip(specs[1] as ReturnType<typeof specFor>)).toEqual(strip(specs[0] as ReturnType<typeof specFor>));
    });

    it("gives the whole pools to a lone gateway and to previews", () => {
      const p = sharable();
      const whole = p.pools.map((x) => poolAddresses(x));
      for (const spec of [specFor(p, "gw-1", ["gw-1"]), compileGatewaySpec(input(p))]) {
        expect(spec.pools.map((x) => x.addresses)).toEqual(whole);
      }
    });

    it("moves only about the newcomer's share when a gateway joins", () => {
      const p = sharable();
      const owners = (ids: string[]) => {
        const m = new Map<string, string>();
        for (const g of ids) for (const pool of specFor(p, g, ids).pools) for (const a of pool.addresses) m.set(a, g);
        return m;
      };
      const before = owners(["gw-1", "gw-2"]);
      const after = owners(gateways);
      const moved = [...before].filter(([a, g]) => after.get(a) !== g);
      const toNewcomer = moved.filter(([a]) => after.get(a) === "gw-3").length;
      // the newcomer takes about a third of every pool; bounded loads of small pools may move a few more
      expect(toNewcomer).toBe([...after.values()].filter((g) => g === "gw-3").length);
      expect(toNewcomer).toBeGreaterThanOrEqual(Math.floor(before.size / 3) - p.pools.length);
      expect(moved.length).toBeLessThanOrEqual(Math.ceil(before.size / 3) + p.pools.length);
    });

    it("refuses a pool with fewer addresses than active gateways, and a gateway that is not a member", () => {
      expect(() => specFor(examplePolicy(), "gw-1", ["gw-1", "gw-2"])).toThrow(/pool "lte" has 1 address for 2/);
      expect(() => specFor(sharable(), "gw-9", gateways)).toThrow(/not one of the cluster's gateways/);
    });
  });

  it("always produces a spec that passes zGatewaySpec, with one entry per expanded pair", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, rules, isps) => {
          const p = generatePolicy({ rules, seed, overlapping: true, isps });
          const spec = compileGatewaySpec(input(p));
          expect(zGatewaySpec.safeParse(spec).success).toBe(true);
          expect(spec.entries).toHaveLength(orderEntries(p).length);
          const positions = spec.entries.map((e) => e.rulePosition);
          expect(positions.every((x) => x >= 1 && x <= p.rules.length)).toBe(true);
          for (const pool of spec.pools) {
            const numeric = pool.addresses.map((a) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0));
            expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it("compiles 10,000 rules and checks their warnings quickly", () => {
    const p = generatePolicy({ rules: 10_000 });
    let t = performance.now();
    const spec = compileGatewaySpec(input(p));
    const compileMs = performance.now() - t;
    t = performance.now();
    policyWarnings(p);
    const warningsMs = performance.now() - t;
    console.info(`10,000 rules: compile ${compileMs.toFixed(0)} ms, warnings ${warningsMs.toFixed(0)} ms`);
    expect(spec.entries.length).toBeGreaterThanOrEqual(10_000);
    expect(compileMs).toBeLessThan(15_000);
    expect(warningsMs).toBeLessThan(5_000);
  });
});

import { describe, expect, it } from "vitest";
import { HA_GATEWAYS, haPolicy } from "../../testkit/ha-fixtures";
import { type CompileInput, compileGatewaySpec, PolicyCompileError } from "./compile";
import { poolSliceOwners } from "./compile-ha";
import type { ClusterGateway } from "./ha";
import type { Policy, Pool } from "./model";

function compile(policy: Policy, gatewayId: string, gateways: ClusterGateway[] = HA_GATEWAYS) {
  const gw = gateways.find((g) => g.id === gatewayId) as ClusterGateway;
  const input: CompileInput = {
    policy,
    revision: 3,
    clusterId: "cluster-ha",
    clusterName: "ha",
    gateway: { id: gw.id, name: gw.name },
    failover: [],
    failoverEpoch: 1,
    gateways,
  };
  return compileGatewaySpec(input);
}

const ONLINK = [10, 11, 12, 13, 14, 15, 16, 17].map((n) => `198.51.100.${n}/32`);

describe("per-gateway links", () => {
  it("gives each gateway its own interface names and next hop", () => {
    const a = compile(haPolicy(), "gw-a");
    const b = compile(haPolicy(), "gw-b");
    expect(a.isps.map((i) => [i.interface, i.nextHop])).toEqual([
      ["eth1", "198.51.100.1"],
      ["eth2", "203.0.113.1"],
    ]);
    expect(b.isps.map((i) => [i.interface, i.nextHop, i.probeTargets])).toEqual([
      ["ens1", "198.51.100.1", ["198.51.100.1"]],
      ["ens2", "203.0.113.62", ["203.0.113.62"]],
    ]);
  });

  it("refuses a gateway whose override gives two ISPs one interface", () => {
    const p = structuredClone(haPolicy());
    (p.settings.gateways[1]?.links[1] as { interface: string }).interface = "ens1";
    expect(() => compile(p, "gw-b")).toThrow(PolicyCompileError);
    expect(() => compile(p, "gw-b")).toThrow(/interface ens1 of ISP "beta" is also its interface to ISP "alpha"/);
  });
});

describe("active/standby", () => {
  it("has one sync group: the LAN instance and one instance per ISP link", () => {
    const ha = compile(haPolicy(), "gw-b").ha;
    expect(ha).toMatchObject({
      mode: "active_standby",
      advertIntervalMs: 100,
      preempt: false,
      trackLinkWeight: 50,
      drained: false,
      sync: { interface: "sync0", ownAddress: "100.100.0.2", peerAddresses: ["100.100.0.1"], port: 3780 },
    });
    expect(ha?.groups).toEqual([
      {
        name: "cluster",
        ownerGatewayId: null,
        priority: 100,
        instances: [
          {
            name: "lan",
            kind: "lan",
            ispId: null,
            interface: "ens0",
            vrid: 51,
            ownAddress: "100.64.0.3",
            unicastPeers: ["100.64.0.2"],
            virtualAddresses: ["100.64.0.1/24"],
          },
          {
            name: "isp1",
            kind: "isp",
            ispId: "isp-alpha",
            interface: "ens1",
            vrid: 52,
            ownAddress: "198.51.100.3",
            unicastPeers: ["198.51.100.2"],
            virtualAddresses: ["198.51.100.4/24", ...ONLINK],
          },
          {
            name: "isp2",
            kind: "isp",
            ispId: "isp-beta",
            interface: "ens2",
            vrid: 53,
            ownAddress: "203.0.113.3",
            unicastPeers: ["203.0.113.2"],
            virtualAddresses: ["203.0.113.4/26"],
          },
        ],
      },
    ]);
    expect(compile(haPolicy(), "gw-a").ha?.groups[0]?.priority).toBe(150);
  });

  it("sends adverts by multicast when unicast is off, and has no sync when it is off", () => {
    const p = structuredClone(haPolicy());
    p.settings.ha.unicast = false;
    p.settings.ha.sync.enabled = false;
    const ha = compile(p, "gw-a").ha;
    expect(ha?.groups[0]?.instances.map((i) => i.unicastPeers)).toEqual([[], [], []]);
    expect(ha?.sync).toBeNull();
  });

  it("gives a drained gateway priority 1", () => {
    const drained = HA_GATEWAYS.map((g) => (g.id === "gw-a" ? { ...g, drained: true } : g));
    const ha = compile(haPolicy(), "gw-a", drained).ha;
    expect(ha?.drained).toBe(true);
    expect(ha?.groups.map((g) => g.priority)).toEqual([1]);
    expect(compile(haPolicy(), "gw-b", drained).ha?.groups.map((g) => g.priority)).toEqual([100]);
  });

  it("has no ha section in a cluster without high availability", () => {
    const p = structuredClone(haPolicy());
    p.settings.ha.mode = "none";
    expect(compile(p, "gw-a").ha).toBeNull();
  });

  it("refuses to compile an incomplete cluster: nothing reaches an agent", () => {
    const p = structuredClone(haPolicy());
    p.settings.ha.lanVirtualAddress = null;
    expect(() => compile(p, "gw-a")).toThrow(/LAN virtual address is required/);
  });
});

describe("active/active", () => {
  it("has one group per gateway, owned by it, carrying its slice", () => {
    const a = compile(haPolicy("active_active"), "gw-a").ha;
    const b = compile(haPolicy("active_active"), "gw-b").ha;
    const policy = haPolicy("active_active");
    const pool = policy.pools.find((p) => p.mode === "on-link") as Pool;
    const owners = poolSliceOwners(
      pool,
      ONLINK.map((x) => x.replace("/32", "")),
      HA_GATEWAYS,
    );
    const sliceOf = (id: string) =>
      [...owners]
        .filter(([, o]) => o === id)
        .map(([addr]) => `${addr}/32`)
        .sort((x, y) => ONLINK.indexOf(x) - ONLINK.indexOf(y));
    expect(sliceOf("gw-a")).toHaveLength(4);
    // the addresses gw-a's VRRP group carries are the ones its SNAT uses
    const specPool = (spec: { pools: { id: string; addresses: string[] }[] }) =>
      spec.pools.find((p) => p.id === pool.id)?.addresses.map((x) => `${x}/32`);
    expect(specPool(compile(policy, "gw-a"))).toEqual(sliceOf("gw-a"));
    expect(specPool(compile(policy, "gw-b"))).toEqual(sliceOf("gw-b"));
    expect(a?.groups.map((g) => [g.name, g.ownerGatewayId, g.priority])).toEqual([
      ["g61", "gw-a", 250],
      ["g62", "gw-b", 150],
    ]);
    expect(b?.groups.map((g) => [g.name, g.ownerGatewayId, g.priority])).toEqual([
      ["g61", "gw-a", 100],
      ["g62", "gw-b", 250],
    ]);
    const groupA = a?.groups[0];
    expect(groupA?.instances.map((i) => [i.name, i.vrid, i.interface, i.virtualAddresses])).toEqual([
      ["g61_lan", 61, "eth0", ["100.64.0.11/24"]],
      ["g61_isp1", 61, "eth1", ["198.51.100.5/24", ...sliceOf("gw-a")]],
      ["g61_isp2", 61, "eth2", ["203.0.113.5/26"]],
    ]);
    // gw-b runs gw-a's group too, on its own interfaces, as its backup
    expect(b?.groups[0]?.instances.map((i) => [i.interface, i.ownAddress, i.unicastPeers, i.virtualAddresses])).toEqual(
      [
        ["ens0", "100.64.0.3", ["100.64.0.2"], ["100.64.0.11/24"]],
        ["ens1", "198.51.100.3", ["198.51.100.2"], ["198.51.100.5/24", ...sliceOf("gw-a")]],
        ["ens2", "203.0.113.3", ["203.0.113.2"], ["203.0.113.5/26"]],
      ],
    );
    expect(b?.groups[1]?.instances[1]?.virtualAddresses).toEqual(["198.51.100.6/24", ...sliceOf("gw-b")]);
  });

  it("gives a drained gateway priority 1 in its own group too, so a peer takes it", () => {
    const drained = HA_GATEWAYS.map((g) => (g.id === "gw-b" ? { ...g, drained: true } : g));
    expect(compile(haPolicy("active_active"), "gw-b", drained).ha?.groups.map((g) => g.priority)).toEqual([1, 1]);
    expect(compile(haPolicy("active_active"), "gw-a", drained).ha?.groups.map((g) => g.priority)).toEqual([250, 150]);
  });
});

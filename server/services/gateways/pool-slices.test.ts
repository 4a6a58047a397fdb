import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  gatewayTestDb,
  type GatewayTestDb,
  makeCluster,
  makeUser,
  META,
  publishChange,
} from "../../../testkit/server/gateways";
import { enrollGateway } from "./enroll";
import { createGateway } from "./gateways";
import { HA_GATEWAYS, haPolicy } from "../../../testkit/ha-fixtures";
import { linkAddressOf, poolSlicesView, upstreamTarget } from "./pool-slices";

let t: GatewayTestDb;
beforeAll(async () => {
  t = await gatewayTestDb();
});
afterAll(async () => {
  await t?.close();
});

const facts = (addresses: string[]) => ({
  hostname: "gw",
  kernel: "6.1",
  nftVersion: "1.0.6",
  interfaces: [
    { name: "eth0", state: "UP", mac: "", mtu: 1500, addresses: ["100.64.0.1/16"] },
    { name: "eth1", state: "UP", mac: "", mtu: 1500, addresses },
  ],
});

describe("upstreamTarget", () => {
  it("routes an active/active gateway's slice to its floating address, on its own interface name", () => {
    const policy = haPolicy("active_active");
    const [alpha] = policy.isps;
    if (!alpha) throw new Error("fixture without ISPs");
    const reported = JSON.stringify({
      ...facts([]),
      interfaces: [{ name: "ens1", state: "UP", mac: "", mtu: 1500, addresses: ["198.51.100.3/24"] }],
    });
    const [a, b] = HA_GATEWAYS;
    expect(upstreamTarget(policy, a?.id ?? "", alpha, "{}")).toEqual({
      interface: "eth1",
      linkAddress: "198.51.100.5",
      floating: true,
    });
    expect(upstreamTarget(policy, b?.id ?? "", alpha, reported)).toEqual({
      interface: "ens1",
      linkAddress: "198.51.100.6",
      floating: true,
    });
    // active/standby holds whole pools; without a floating address the reported own address is the target
    const standby = haPolicy();
    expect(upstreamTarget(standby, b?.id ?? "", alpha, reported)).toEqual({
      interface: "ens1",
      linkAddress: "198.51.100.3",
      floating: false,
    });
  });
});

describe("linkAddressOf", () => {
  const isp = { interface: "eth1", nextHop: "198.51.100.1" };
  it("takes the gateway's address in the next hop's subnet on the ISP's interface", () => {
    expect(linkAddressOf(JSON.stringify(facts(["203.0.113.9/32", "198.51.100.2/24"])), isp)).toBe("198.51.100.2");
    expect(linkAddressOf(JSON.stringify(facts(["203.0.113.9/32"])), isp)).toBe("203.0.113.9");
    expect(linkAddressOf(JSON.stringify(facts([])), isp)).toBeNull();
    expect(linkAddressOf("{}", isp)).toBeNull();
    expect(linkAddressOf("not json", isp)).toBeNull();
  });
});

describe("poolSlicesView", () => {
  it("shows each gateway's slice and the fewest routes the upstream needs to each gateway's link address", async () => {
    const admin = await makeUser(t.db, "root", "admin");
    const { clusterId, poolId } = await makeCluster(t.db, admin, "view");
    const one = await createGateway(t.db, admin, META, { clusterId, name: "gw-a", address: "" });
    await enrollGateway(t.db, META, one.enrollToken, { agentVersion: "1.0.0", facts: facts(["198.51.100.2/24"]) });

    // one gateway: no slices, the whole pool is its own
    let view = await poolSlicesView(t.db, clusterId);
    expect(view.revision).toBe(0);
    expect(view.inForce).toBe(false);
    expect(view.upstream).toEqual([]);

    await createGateway(t.db, admin, META, { clusterId, name: "gw-b", address: "" });
    await publishChange(t.db, admin, clusterId, poolId);
    view = await poolSlicesView(t.db, clusterId);
    expect(view.revision).toBe(1);
    expect(view.inForce).toBe(true);
    const pool = view.pools[0];
    expect(pool?.total).toBe(64);
    expect(pool?.slices.map((s) => [s.gatewayName, s.count])).toEqual([
      ["gw-a", 32],
      ["gw-b", 32],
    ]);
    expect(view.upstream.map((u) => [u.gatewayName, u.ispName, u.interface, u.linkAddress])).toEqual([
      ["gw-a", "isp-a", "eth1", "198.51.100.2"],
      ["gw-b", "isp-a", "eth1", null],
    ]);
    // the routes cover the slice exactly
    const a = view.upstream[0]?.routed ?? [];
    expect(a.length).toBeGreaterThan(0);
    const sizeOf = (cidr: string) => 2 ** (32 - Number(cidr.split("/")[1]));
    expect(a.reduce((n, c) => n + sizeOf(c), 0)).toBe(32);
  });

  it("names the pool that is too small to give every gateway an address", async () => {
    const admin = await makeUser(t.db, "root2", "admin");
    const { clusterId, poolId } = await makeCluster(t.db, admin, "short");
    for (let i = 0; i < 65; i++) await createGateway(t.db, admin, META, { clusterId, name: `gw-${i}`, address: "" });
    await publishChange(t.db, admin, clusterId, poolId);
    const view = await poolSlicesView(t.db, clusterId);
    expect(view.pools[0]?.problem).toMatch(/^pool "pool-a" has 64 addresses for 65 active gateways/);
    expect(view.pools[0]?.slices).toEqual([]);
  });
});

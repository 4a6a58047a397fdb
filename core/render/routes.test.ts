import { describe, expect, it } from "vitest";
import { interfaceSysctl, renderRoutes } from "./routes";
import { gatewaySpec, isp, officeSpec, pool } from "../../testkit/spec-fixtures";

describe("renderRoutes", () => {
  it("gives every ISP a fwmark rule, a table with its default route and loose rp_filter", () => {
    const d = renderRoutes(officeSpec());
    expect(d.rules).toEqual([
      { priority: 101, fwmark: 0x101, mask: 0x1ff, table: 7101 },
      { priority: 102, fwmark: 0x102, mask: 0x1ff, table: 7102 },
      { priority: 105, fwmark: 0x105, mask: 0x1ff, table: 7105 },
    ]);
    expect(d.routes[2]).toEqual({ table: 7105, dst: "default", via: "100.65.3.2", dev: "ispc" });
    expect(d.sysctls).toContainEqual({ key: "net.ipv4.conf.ispa.rp_filter", value: "2" });
  });

  it("does not depend on the order of ISPs in the spec", () => {
    const a = isp("a", 3, "ispa", "100.65.1.2");
    const b = isp("b", 1, "ispb", "100.65.2.2");
    const one = renderRoutes(gatewaySpec({ isps: [a, b], pools: [], entries: [] }));
    const two = renderRoutes(gatewaySpec({ isps: [b, a], pools: [], entries: [] }));
    expect(one).toEqual(two);
    expect(one.rules.map((r) => r.priority)).toEqual([101, 103]);
  });

  it("routes probes bound to an ISP's interface through its table, only for targets beyond the next hop", () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("a", 1, "ispa", "100.65.1.2"), probeTargets: ["100.65.1.2"] },
        { ...isp("b", 2, "eth0.100", "100.65.2.2"), probeTargets: ["203.0.113.1", "100.65.2.2"] },
      ],
      pools: [],
      entries: [],
    });
    expect(renderRoutes(spec).rules.filter((r) => r.oif !== undefined)).toEqual([
      { priority: 352, oif: "eth0.100", table: 7102 },
    ]);
  });

  it("on an interface two ISPs share, routes each probe target through its own ISP's table and next hop", () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("a", 1, "up0", "100.65.1.2"), probeTargets: ["100.65.1.2", "203.0.113.1"] },
        { ...isp("b", 2, "up0", "100.65.1.3"), probeTargets: ["203.0.113.2"] },
      ],
      pools: [],
      entries: [],
    });
    const d = renderRoutes(spec);
    expect(d.rules.filter((r) => r.oif !== undefined)).toEqual([
      { priority: 351, oif: "up0", table: 7101, to: "203.0.113.1" },
      { priority: 352, oif: "up0", table: 7102, to: "203.0.113.2" },
    ]);
    expect(d.routes).toEqual([
      { table: 7101, dst: "default", via: "100.65.1.2", dev: "up0" },
      { table: 7102, dst: "default", via: "100.65.1.3", dev: "up0" },
    ]);
    expect(d.sysctls.filter((s) => s.key.includes("up0"))).toEqual([
      { key: "net.ipv4.conf.up0.rp_filter", value: "2" },
    ]);
  });

  it("gives a dynamic uplink with no next hop yet no route, but keeps its rule", () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("d", 1, "wan0", "100.66.0.1"), addressing: "dhcp", nextHopUnknown: true },
        isp("s", 2, "wan1", "100.65.2.2"),
      ],
      pools: [],
      entries: [],
    });
    const d = renderRoutes(spec);
    expect(d.routes.map((r) => r.table)).toEqual([7102]);
    expect(d.rules.map((r) => r.table)).toEqual([7101, 7102]);
  });

  it("lets a PPPoE ISP's interface be missing while its session is down, and only that one", () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("p", 1, "ppp0", "100.66.0.1"), addressing: "pppoe", nextHopUnknown: true },
        { ...isp("d", 2, "wan0", "100.66.1.1"), addressing: "dhcp" },
        isp("s", 3, "wan1", "100.65.2.2"),
      ],
      pools: [],
      entries: [],
    });
    expect(renderRoutes(spec).sysctls).toEqual([
      { key: "net.ipv4.conf.ppp0.rp_filter", value: "2", interfaceMayBeMissing: true },
      { key: "net.ipv4.conf.wan0.rp_filter", value: "2" },
      { key: "net.ipv4.conf.wan1.rp_filter", value: "2" },
    ]);
  });

  it("moves every priority with the cluster's base, never the tables", () => {
    const spec = officeSpec();
    const moved = renderRoutes({ ...spec, settings: { ...spec.settings, ipRulePriorityBase: 5000 } });
    expect(moved.rules.map((r) => [r.priority, r.table])).toEqual([
      [5001, 7101],
      [5002, 7102],
      [5005, 7105],
    ]);
  });

  it("names VLAN interfaces the way sysctl wants them", () => {
    expect(interfaceSysctl("eth0.100", "rp_filter")).toBe("net.ipv4.conf.eth0/100.rp_filter");
  });

  it("leaves on-link pool addresses to keepalived when the gateway is in a high-availability cluster", () => {
    const spec = gatewaySpec({
      isps: [isp("a", 1, "eth1", "198.51.100.1")],
      pools: [pool("pa", "a", ["198.51.100.10"], null, "on-link")],
      entries: [],
    });
    expect(renderRoutes(spec).addresses).toEqual([{ address: "198.51.100.10", dev: "eth1" }]);
    const ha: NonNullable<typeof spec.ha> = {
      mode: "active_standby",
      advertIntervalMs: 100,
      preempt: false,
      trackLinkWeight: 50,
      drained: false,
      sync: null,
      groups: [
        {
          name: "cluster",
          ownerGatewayId: null,
          priority: 100,
          instances: [
            {
              name: "isp1",
              kind: "isp",
              ispId: "a",
              interface: "eth1",
              vrid: 52,
              ownAddress: "198.51.100.2",
              unicastPeers: [],
              virtualAddresses: ["198.51.100.10/32"],
            },
          ],
        },
      ],
    };
    expect(renderRoutes({ ...spec, ha }).addresses).toEqual([]);
    // connections the peer carried for a while come back with newer sequence numbers
    expect(renderRoutes({ ...spec, ha }).sysctls).toContainEqual({
      key: "net.netfilter.nf_conntrack_tcp_be_liberal",
      value: "1",
    });
    expect(renderRoutes(spec).sysctls.map((x) => x.key)).not.toContain("net.netfilter.nf_conntrack_tcp_be_liberal");
  });
});

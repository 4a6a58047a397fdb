import { describe, expect, it } from "vitest";
import { gatewaySpec, isp } from "../../testkit/spec-fixtures";
import { learnUplinks } from "./uplink-learn";

const spec = gatewaySpec({
  isps: [
    { ...isp("d", 1, "wan0", "100.66.0.1"), addressing: "dhcp" },
    { ...isp("p", 2, "ppp0", "100.67.0.1"), addressing: "pppoe" },
    isp("s", 3, "wan1", "100.65.2.2"),
  ],
  pools: [],
  entries: [],
});

describe("learnUplinks", () => {
  it("reads a DHCP uplink's address and default route, and a PPPoE uplink's peer", () => {
    const routes = JSON.stringify([
      { dst: "default", gateway: "100.66.0.254", dev: "wan0", protocol: "dhcp", metric: 1024 },
      { dst: "default", gateway: "100.66.0.9", dev: "wan0", metric: 2000 },
      { dst: "default", gateway: "100.65.2.2", dev: "wan1" },
      { dst: "100.66.0.0/24", dev: "wan0", protocol: "kernel", scope: "link", prefsrc: "100.66.0.20" },
    ]);
    const addrs = JSON.stringify([
      {
        ifname: "wan0",
        addr_info: [
          { family: "inet", local: "198.51.100.10", prefixlen: 32, metric: 7100 },
          { family: "inet", local: "100.66.0.20", prefixlen: 24, dynamic: true },
        ],
      },
      { ifname: "ppp0", addr_info: [{ family: "inet", local: "100.67.0.44", address: "100.67.0.1", prefixlen: 32 }] },
    ]);
    expect(learnUplinks(spec, routes, addrs)).toEqual([
      { ispId: "d", interface: "wan0", address: "100.66.0.20", nextHop: "100.66.0.254" },
      { ispId: "p", interface: "ppp0", address: "100.67.0.44", nextHop: "100.67.0.1" },
    ]);
  });

  it("learns nothing for an interface without a lease or a ppp link that is gone", () => {
    expect(learnUplinks(spec, "[]", "[]")).toEqual([
      { ispId: "d", interface: "wan0", address: null, nextHop: null },
      { ispId: "p", interface: "ppp0", address: null, nextHop: null },
    ]);
  });

  it("refuses output that is not ip's JSON", () => {
    expect(() => learnUplinks(spec, "{", "[]")).toThrow();
    expect(() => learnUplinks(spec, "{}", "[]")).toThrow(/not a JSON array/);
  });
});

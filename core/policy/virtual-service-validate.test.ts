import { describe, expect, it } from "vitest";
import { examplePolicy } from "../../testkit/policy-fixtures";
import { compileGatewaySpec } from "./compile";
import { VirtualServiceCompileError } from "./compile-virtual-services";
import type { Policy } from "./model";
import { zVirtualService } from "./virtual-service";
import { validateVirtualServices } from "./virtual-service-validate";
import { checkVirtualServiceFacts } from "./virtual-service-facts";

const web = (over: Record<string, unknown> = {}) =>
  zVirtualService.parse({
    id: "vs-web",
    name: "web",
    address: "198.51.100.80",
    port: 80,
    realServers: [
      { address: "100.64.10.2", port: 8080 },
      { address: "100.64.10.3", port: 8080, weight: 2 },
    ],
    ...over,
  });

function check(services: unknown[], policy: Policy = examplePolicy()) {
  return validateVirtualServices({ virtualServices: services, pools: policy.pools, isps: policy.isps });
}

describe("virtual service checks", () => {
  it("fills the defaults ipvsadm users expect", () => {
    const s = web();
    expect(s).toMatchObject({ protocol: "tcp", scheduler: "rr", persistenceSeconds: 0, fullNat: false, enabled: true });
    expect(s.realServers[0]).toMatchObject({ weight: 1, mode: "nat", state: "enabled" });
    expect(s.healthCheck).toMatchObject({ kind: "none", intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 });
    expect(check([s])).toEqual([]);
  });

  it("names the field of a bad address, weight or scheduler", () => {
    const issues = check([
      {
        id: "x",
        name: "x",
        address: "198.51.100.300",
        port: 80,
        scheduler: "lc",
        realServers: [{ address: "100.64.10.2", weight: 70000 }],
      },
    ]);
    expect(issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["address", "virtual address must be an IPv4 address such as 198.51.100.1"],
      ["scheduler", "scheduler must be one of rr, wrr, sh, dh, mh, random"],
      ["realServers.0.weight", "real server 1 weight must be at most 65535"],
    ]);
  });

  it("refuses the same address, protocol and port twice, and every port beside one port", () => {
    const issues = check([
      web(),
      web({ id: "vs-2", name: "web2" }),
      web({ id: "vs-3", name: "all", port: null, realServers: [{ address: "100.64.10.2" }] }),
    ]);
    expect(issues).toEqual([
      {
        serviceId: "vs-2",
        path: ["port"],
        message: 'port is already used: virtual service "web" has 198.51.100.80 tcp port 80',
      },
      {
        serviceId: "vs-3",
        path: ["port"],
        message: 'port cannot be every port: virtual service "web" already has 198.51.100.80 tcp port 80',
      },
    ]);
    // another protocol on the same address and port is another service
    expect(check([web(), web({ id: "vs-u", name: "dns", protocol: "udp" })])).toEqual([]);
  });

  it("takes a service chosen by the operator's fwmark instead of an address, protocol and port", () => {
    const marked = (over: Record<string, unknown> = {}) =>
      web({
        id: "vs-mark",
        name: "marked",
        address: null,
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        realServers: [{ address: "100.64.10.2" }, { address: "100.64.10.3" }],
        ...over,
      });
    expect(check([marked(), web()])).toEqual([]);
    // every real server with a port (connections go there), and a check of that port
    expect(
      check([
        marked({
          realServers: [
            { address: "100.64.10.2", port: 8080 },
            { address: "100.64.10.3", port: 8080 },
          ],
          healthCheck: { kind: "http" },
        }),
      ]),
    ).toEqual([]);
    const issues = check([
      marked({ address: "198.51.100.80", protocol: "tcp", port: 80 }),
      marked({ id: "b", name: "b", fwmark: { value: 0x10000000, mask: 0x10000000 } }),
      marked({
        id: "c",
        name: "c",
        fwmark: { value: 0x20000000, mask: 0x30000000 },
        realServers: [{ address: "100.64.10.2", port: 8080, mode: "dr" }, { address: "100.64.10.3" }],
      }),
      // not parsed here: the schema refuses the mark
      {
        ...marked({ id: "e", name: "e", fwmark: { value: 0x40000000, mask: 0x40000000 } }),
        fwmark: { value: 1, mask: 0xff },
      },
      web({ id: "f", name: "f", address: null }),
      web({ id: "g", name: "g", protocol: "any", port: 81 }),
    ]);
    expect(issues.map((i) => [i.serviceId, i.path.join("."), i.message])).toEqual([
      [
        "e",
        "fwmark.mask",
        "fwmark mask: uses bits Gatehouse writes itself (0xfffffff): an operator's mark must be in 0xf0000000",
      ],
      [
        "vs-mark",
        "address",
        "virtual address must be empty for a service chosen by fwmark: a service is chosen by its address or by a mark",
      ],
      [
        "vs-mark",
        "protocol",
        "protocol must be TCP and UDP (any) for a service chosen by fwmark: the operator's rule that sets the mark picks the protocols",
      ],
      [
        "vs-mark",
        "port",
        "port must be empty for a service chosen by fwmark: the operator's rule that sets the mark picks the ports",
      ],
      [
        "vs-mark",
        "fwmark",
        `fwmark must differ from virtual service "b"'s fwmark 0x10000000/0x10000000 in a bit both masks test: one packet could carry both`,
      ],
      [
        "b",
        "fwmark",
        `fwmark must differ from virtual service "marked"'s fwmark 0x10000000/0xf0000000 in a bit both masks test: one packet could carry both`,
      ],
      [
        "c",
        "realServers.0.mode",
        "real server 1 mode cannot be direct routing (DR) in a service chosen by fwmark: DR forwards packets at priority raw (-300), before the operator's rules can set the mark; use NAT",
      ],
      [
        "c",
        "realServers.1.port",
        "real server 2 port must be given when another real server has one: in a service chosen by fwmark either every real server gives the port connections go to, or none does and each connection keeps its own",
      ],
      ["c", "realServers.0.port", "real server 1 port cannot map ports in direct routing (DR) mode: leave it empty"],
      ["c", "realServers", "real servers must all use the same mode (NAT or DR)"],
      ["f", "address", "virtual address is required: a virtual service is chosen by its address (or by an fwmark)"],
      ["g", "protocol", "protocol must be TCP or UDP for a service on an address (TCP and UDP is for fwmark services)"],
    ]);
  });

  it("refuses an fwmark service on mark 0, and a health check without the real servers' ports", () => {
    const issues = check([
      web({
        address: null,
        fwmark: { value: 0, mask: 0x40000000 },
        protocol: "any",
        port: null,
        realServers: [{ address: "100.64.10.2" }],
        healthCheck: { kind: "tcp" },
      }),
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      "fwmark value must not be 0: the service would take every connection that does not carry the operator's mark",
      "health check type needs a port: give every real server the port to check, or check with none",
    ]);
  });

  it("refuses a virtual address that is a pool address, the gateway's own or an ISP's next hop", () => {
    const policy = examplePolicy();
    const isps = policy.isps.map((i, n) => (n === 0 ? { ...i, localAddress: "198.51.100.2/24" } : i));
    const issues = check(
      [
        web({ address: "198.51.100.12" }),
        web({ id: "b", name: "b", address: "198.51.100.2" }),
        web({ id: "c", name: "c", address: "198.51.100.1" }),
      ],
      { ...policy, isps },
    );
    expect(issues.map((i) => [i.serviceId, i.message])).toEqual([
      ["vs-web", 'virtual address is an address of pool "telia-main": a virtual address must be its own'],
      ["b", 'virtual address is the gateway\'s own address on ISP "telia"'],
      ["c", 'virtual address is the next hop of ISP "telia"'],
    ]);
  });

  it("refuses a virtual address the settings give a gateway (LAN, LAN virtual, link, floating)", () => {
    const policy = examplePolicy();
    const telia = policy.isps[0]?.id as string;
    const settings = {
      ...policy.settings,
      ha: { ...policy.settings.ha, lanVirtualAddress: "100.64.0.1/24" },
      gateways: [
        {
          ...policy.settings.gateways[0],
          gatewayId: "g1",
          lanInterface: "eth0",
          lanAddress: "100.64.0.2/24",
          priority: 100,
          syncAddress: null,
          lanVirtualAddress: null,
          vrid: null,
          links: [
            {
              ispId: telia,
              interface: null,
              localAddress: "198.51.100.3/24",
              nextHop: null,
              floatingAddress: "198.51.100.5/24",
            },
          ],
        },
      ],
    };
    const issues = validateVirtualServices({
      virtualServices: [
        web({ address: "100.64.0.1" }),
        web({ id: "b", name: "b", address: "100.64.0.2" }),
        web({ id: "c", name: "c", address: "198.51.100.3" }),
        web({ id: "d", name: "d", address: "198.51.100.5" }),
      ],
      pools: policy.pools,
      isps: policy.isps,
      settings,
      gatewayNames: new Map([["g1", "gw-a"]]),
    });
    expect(issues.map((i) => [i.serviceId, i.message])).toEqual([
      ["vs-web", "virtual address is the cluster's LAN virtual address"],
      ["b", 'virtual address is the LAN address of gateway "gw-a"'],
      ["c", 'virtual address is the address of gateway "gw-a" on ISP "telia"'],
      ["d", 'virtual address is the floating address of gateway "gw-a" on ISP "telia"'],
    ]);
  });

  it("checks a DR real server and the virtual address against the gateways' reported interfaces", () => {
    const gateways = [
      {
        name: "gw-a",
        interfaces: [
          { name: "lo", state: "", mac: "", mtu: null, addresses: ["127.0.0.1/8"] },
          { name: "eth0", state: "", mac: "", mtu: null, addresses: ["100.64.10.1/24", "fe80::1/64"] },
          { name: "eth1", state: "", mac: "", mtu: null, addresses: ["198.51.100.2/24", "198.51.100.80/32"] },
        ],
      },
      // reported nothing yet: not judged
      { name: "gw-new", interfaces: [] },
    ];
    const dr = (address: string) => web({ port: 443, realServers: [{ address, mode: "dr" }] });
    expect(checkVirtualServiceFacts(dr("100.64.10.9"), gateways)).toEqual([]);
    expect(checkVirtualServiceFacts(dr("192.0.2.7"), gateways).map((i) => [i.path.join("."), i.message])).toEqual([
      [
        "realServers.0.address",
        'real server 1 address is on no subnet of gateway "gw-a"\'s interfaces (eth0 100.64.10.1/24, eth1 198.51.100.2/24): direct routing (DR) needs the real server on a link the gateway shares',
      ],
    ]);
    // NAT mode reaches its servers through routing: no subnet needed
    expect(checkVirtualServiceFacts(web({ address: "203.0.113.80" }), gateways)).toEqual([]);
    expect(checkVirtualServiceFacts(web({ address: "100.64.10.1" }), gateways).map((i) => i.message)).toEqual([
      'virtual address is gateway "gw-a"\'s own address on eth0',
    ]);
  });

  it("refuses port mapping in DR mode, DR with FULLNAT, mixed modes and duplicate real servers", () => {
    const issues = check([
      web({
        realServers: [
          { address: "100.64.10.2", port: 8080, mode: "dr" },
          { address: "100.64.10.2", port: 8080 },
        ],
      }),
      web({ id: "f", name: "f", port: 443, fullNat: true, realServers: [{ address: "100.64.10.2", mode: "dr" }] }),
    ]);
    expect(issues.map((i) => [i.serviceId, i.path.join("."), i.message])).toEqual([
      [
        "vs-web",
        "realServers.0.port",
        "real server 1 port cannot map ports in direct routing (DR) mode: leave it empty",
      ],
      ["vs-web", "realServers.1.address", "real server 2 address is the same as real server 1"],
      ["vs-web", "realServers", "real servers must all use the same mode (NAT or DR)"],
      [
        "f",
        "realServers.0.mode",
        "real server 1 mode cannot be direct routing (DR) when the client is SNATed (FULLNAT)",
      ],
    ]);
  });

  it("refuses DR servers whose addresses share their last two numbers", () => {
    const issues = check([
      web({ realServers: [{ address: "100.64.10.2", mode: "dr" }] }),
      web({ id: "b", name: "b", port: 443, realServers: [{ address: "100.65.10.2", mode: "dr" }] }),
    ]);
    expect(issues.map((i) => [i.serviceId, i.path.join(".")])).toEqual([["b", "realServers.0.address"]]);
  });

  it("refuses a timeout longer than the interval and an HTTP check on UDP", () => {
    const issues = check([
      { ...web(), healthCheck: { kind: "tcp", intervalMs: 500, timeoutMs: 900 } },
      { ...web({ id: "u", name: "u", protocol: "udp", port: 53 }), healthCheck: { kind: "http" } },
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      "check timeout (ms) must not be longer than the interval",
      "health check type must be none or TCP for a UDP service",
    ]);
  });
});

describe("compiling virtual services", () => {
  const input = (policy: Policy) => ({
    policy,
    revision: 1,
    clusterId: "c",
    clusterName: "c",
    gateway: { id: "g", name: "g" },
    failover: [],
    failoverEpoch: 0,
  });

  it("sends enabled services with their mode and real servers in order", () => {
    const policy = {
      ...examplePolicy(),
      virtualServices: [web(), web({ id: "off", name: "off", port: 81, enabled: false })],
    };
    const spec = compileGatewaySpec(input(policy));
    expect(spec.virtualServices).toEqual([
      {
        id: "vs-web",
        name: "web",
        address: "198.51.100.80",
        fwmark: null,
        protocol: "tcp",
        port: 80,
        scheduler: "rr",
        persistenceSeconds: 0,
        sorryServer: null,
        fullNat: false,
        mode: "nat",
        realServers: [
          { address: "100.64.10.2", port: 8080, weight: 1, state: "enabled" },
          { address: "100.64.10.3", port: 8080, weight: 2, state: "enabled" },
        ],
        healthCheck: web().healthCheck,
      },
    ]);
  });

  it("a policy without virtual services compiles to none", () => {
    expect(compileGatewaySpec(input(examplePolicy())).virtualServices).toEqual([]);
  });

  it("refuses to compile a service with problems, naming it", () => {
    const policy = { ...examplePolicy(), virtualServices: [web({ address: "198.51.100.12" })] };
    expect(() => compileGatewaySpec(input(policy))).toThrow(VirtualServiceCompileError);
    expect(() => compileGatewaySpec(input(policy))).toThrow(
      /virtual service "web": virtual address is an address of pool/,
    );
  });
});

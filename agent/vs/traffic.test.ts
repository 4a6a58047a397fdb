import { describe, expect, it } from "vitest";
import { drClosingMapOf, drFlowMapOf } from "../../core/render/vs-dr";
import { drMarkOf, drTargetOf } from "../../core/spec/marks";
import { fwmarkService, gatewaySpec, virtualService } from "../../testkit/spec-fixtures";
import { sumTraffic } from "../../core/protocol/virtual-service-status";
import {
  parseConntrack,
  parseDrFlows,
  fitStatus,
  parseSetCounters,
  type RawTraffic,
  rawTraffic,
  withRates,
  withTraffic,
} from "./traffic";

// as nft 1.0.6 prints them
const SETS = JSON.stringify({
  nftables: [
    { metainfo: { version: "1.0.6" } },
    {
      set: {
        name: "vs_rs_new",
        elem: [
          { elem: { val: { concat: ["100.64.2.2", "tcp", 8080] }, counter: { packets: 5, bytes: 300 } } },
          { elem: { val: { concat: ["100.64.3.2", "tcp", 8080] }, counter: { packets: 4, bytes: 240 } } },
        ],
      },
    },
    {
      set: {
        name: "vs_rs_in",
        elem: [{ elem: { val: { concat: ["100.64.2.2", "tcp", 8080] }, counter: { packets: 30, bytes: 2000 } } }],
      },
    },
    {
      set: {
        name: "vs_dr_rs_new",
        elem: [
          { elem: { val: { concat: ["198.51.100.90", "udp", 53, 2105599] }, counter: { packets: 7, bytes: 700 } } },
        ],
      },
    },
    { set: { name: "isp_ifaces", elem: ["ispa"] } },
  ],
});

const CONNTRACK = [
  "tcp      6 431999 ESTABLISHED src=203.0.113.10 dst=198.51.100.80 sport=40000 dport=80 src=100.64.2.2 dst=203.0.113.10 sport=8080 dport=40000 [ASSURED] mark=0 use=1",
  "tcp      6 117 TIME_WAIT src=203.0.113.10 dst=198.51.100.80 sport=40001 dport=80 src=100.64.2.2 dst=203.0.113.10 sport=8080 dport=40001 [ASSURED] mark=0 use=1",
  "tcp      6 59 SYN_RECV src=203.0.113.11 dst=198.51.100.80 sport=40002 dport=80 src=100.64.3.2 dst=203.0.113.11 sport=8080 dport=40002 mark=0 use=1",
  "udp      17 29 src=203.0.113.10 dst=198.51.100.80 sport=45000 dport=53 [UNREPLIED] src=100.64.3.2 dst=203.0.113.10 sport=8080 dport=45000 mark=0 use=1",
  "",
].join("\n");

const web = virtualService("web", "198.51.100.80", 80, [
  { address: "100.64.2.2", port: 8080 },
  { address: "100.64.3.2", port: 8080 },
]);
const dns = virtualService("dns", "198.51.100.90", 53, [{ address: "100.64.2.2" }, { address: "100.64.3.2" }], {
  protocol: "udp",
  mode: "dr",
});
const spec = gatewaySpec({ isps: [], pools: [], entries: [], virtualServices: [web, dns] });

const raw = (over: Partial<RawTraffic> = {}): RawTraffic => ({
  connections: 0,
  packetsIn: 0,
  packetsOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  active: 0,
  inactive: 0,
  ...over,
});

describe("virtual service traffic", () => {
  it("reads per-element counters of every counted set, and conntrack's DNATed connections by service and server", () => {
    const sets = parseSetCounters(SETS);
    expect(sets.get("vs_rs_new")?.get("100.64.2.2 tcp 8080")).toEqual({ packets: 5, bytes: 300 });
    expect(sets.has("isp_ifaces")).toBe(false);
    const ct = parseConntrack(CONNTRACK);
    expect(ct.get("198.51.100.80 tcp 80 100.64.2.2 8080")).toEqual({ active: 1, inactive: 1 });
    expect(ct.get("198.51.100.80 tcp 80 100.64.3.2 8080")).toEqual({ active: 0, inactive: 1 });
    expect(ct.get("198.51.100.80 udp 53 100.64.3.2 8080")).toEqual({ active: 0, inactive: 1 });
  });

  it("counts a DR service's flows per server mark", () => {
    const m = drMarkOf(drTargetOf("100.64.3.2"));
    const json = JSON.stringify({
      nftables: [
        {
          map: {
            name: "f",
            elem: [
              [{ elem: { val: { concat: ["203.0.113.10", 4000] }, expires: 899 } }, m],
              [{ elem: { val: { concat: ["203.0.113.10", 4001] }, expires: 890 } }, m],
            ],
          },
        },
      ],
    });
    expect(parseDrFlows(json)).toEqual(new Map([[m, 2]]));
  });

  it("gives each real server its numbers, NAT and DR alike", () => {
    const t = rawTraffic(spec, parseSetCounters(SETS), parseConntrack(CONNTRACK), new Map());
    expect(t.get("web|100.64.2.2|8080")).toEqual(
      raw({ connections: 5, packetsIn: 30, bytesIn: 2000, active: 1, inactive: 1 }),
    );
    expect(t.get("web|100.64.3.2|8080")).toEqual(raw({ connections: 4, inactive: 1 }));
    // 2105599: the DR mark of 100.64.2.2 (ISP field 255, server number 0x0202)
    expect(drMarkOf(drTargetOf("100.64.2.2"))).toBe(2105599);
    expect(t.get("dns|100.64.2.2|53")).toEqual(raw({ connections: 7 }));
  });

  it("a TCP DR service's flows whose client closed them are inactive, the others active", () => {
    const web = virtualService("web", "198.51.100.91", 80, [{ address: "100.64.2.2" }], { mode: "dr" });
    const m = drMarkOf(drTargetOf("100.64.2.2"));
    const flows = new Map([
      [drFlowMapOf(web), new Map([[m, 5]])],
      [drClosingMapOf(web), new Map([[m, 2]])],
    ]);
    const dr = gatewaySpec({ isps: [], pools: [], entries: [], virtualServices: [web] });
    expect(rawTraffic(dr, new Map(), new Map(), flows).get("web|100.64.2.2|80")).toMatchObject({
      active: 3,
      inactive: 2,
    });
  });

  it("a real server of a service chosen by fwmark counts its TCP and UDP packets together", () => {
    const marked = fwmarkService("marked", 0x10000000, [{ address: "100.64.2.2", port: 8080 }]);
    const spec = gatewaySpec({ isps: [], pools: [], entries: [], virtualServices: [marked] });
    const counters = new Map([
      [
        "vs_rs_new",
        new Map([
          ["100.64.2.2 tcp 8080", { packets: 5, bytes: 300 }],
          ["100.64.2.2 udp 8080", { packets: 2, bytes: 100 }],
        ]),
      ],
    ]);
    expect(rawTraffic(spec, counters, new Map(), new Map()).get("marked|100.64.2.2|8080")).toEqual(
      raw({ connections: 7 }),
    );
  });

  it("rates are deltas per second; a counter that went down was reset by a reload", () => {
    const a = { at: 1000, servers: new Map([["k", raw({ connections: 10, packetsIn: 100, bytesIn: 5000 })]]) };
    const b = { at: 3000, servers: new Map([["k", raw({ connections: 30, packetsIn: 100, bytesIn: 9000 })]]) };
    expect(withRates(null, a).get("k")).toMatchObject({ connectionsPerSecond: 0, packetsInPerSecond: 0 });
    expect(withRates(a, b).get("k")).toMatchObject({
      connections: 30,
      connectionsPerSecond: 10,
      packetsInPerSecond: 0,
      bytesInPerSecond: 2000,
    });
    const reset = { at: 5000, servers: new Map([["k", raw({ connections: 4 })]]) };
    expect(withRates(b, reset).get("k")?.connectionsPerSecond).toBe(2);
  });

  it("adds traffic to the health status, with each service's totals", () => {
    const a = { at: 0, servers: new Map([["web|100.64.2.2|8080", raw({ connections: 3, active: 1 })]]) };
    const b = {
      at: 1000,
      servers: new Map([
        ["web|100.64.2.2|8080", raw({ connections: 5, active: 2 })],
        ["web|100.64.3.2|8080", raw({ connections: 1, inactive: 1 })],
      ]),
    };
    const status = withTraffic(
      [
        {
          serviceId: "web",
          realServers: web.realServers.map((r) => ({
            address: r.address,
            port: r.port,
            health: "unchecked" as const,
            since: null,
            lastError: "",
          })),
        },
      ],
      spec,
      withRates(a, b),
    );
    expect(status[0]?.realServers[0]?.traffic).toMatchObject({ connections: 5, connectionsPerSecond: 2, active: 2 });
    expect(status[0]?.traffic).toMatchObject({ connections: 6, connectionsPerSecond: 2, active: 2, inactive: 1 });
    expect(sumTraffic([])).toMatchObject({ connections: 0 });
  });

  it("fits the report: per-server traffic goes first, then totals, then services", () => {
    const t = sumTraffic([]);
    const service = (id: string) => ({
      serviceId: id,
      traffic: t,
      realServers: Array.from({ length: 4 }, (_, i) => ({
        address: `100.64.2.${i + 2}`,
        port: 80,
        health: "up" as const,
        since: null,
        lastError: "",
        traffic: t,
      })),
    });
    const many = Array.from({ length: 100 }, (_, i) => service(`s${i}`));
    const size = (s: unknown) => JSON.stringify(s).length;
    expect(fitStatus(many, size(many))).toEqual(many);
    const noServers = fitStatus(many, size(many) - 1);
    expect(noServers).toHaveLength(100);
    expect(noServers.every((s) => s.traffic !== undefined && s.realServers.every((r) => r.traffic === undefined))).toBe(
      true,
    );
    const healthOnly = fitStatus(many, size(noServers) - 1);
    expect(healthOnly).toHaveLength(100);
    expect(healthOnly.every((s) => s.traffic === undefined)).toBe(true);
    const cut = fitStatus(many, 10_000);
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThan(100);
    expect(size(cut)).toBeLessThanOrEqual(10_000);
  });
});

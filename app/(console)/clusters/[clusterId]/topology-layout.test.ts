import { describe, expect, it } from "vitest";
import type { Topology, TopologyGateway, TopologyIsp } from "@/server/services/failover/topology";
import { gatewayText, ispText, layoutTopology, linkLook, poolText } from "./topology-layout";

const gw = (id: string, over: Partial<TopologyGateway> = {}): TopologyGateway => ({
  id,
  name: id,
  online: true,
  drained: false,
  role: null,
  ...over,
});

const isp = (id: string, over: Partial<TopologyIsp> = {}): TopologyIsp => ({
  id,
  name: id,
  interface: "eth1",
  operatorFailover: null,
  failedOver: false,
  connections: null,
  pools: [{ id: `${id}-p`, name: `${id}-pool`, addresses: 4, fill: null }],
  links: [
    { gatewayId: "g1", state: "up", via: null, connections: 1 },
    { gatewayId: "g2", state: "up", via: null, connections: 2 },
  ],
  ...over,
});

const topo = (over: Partial<Topology> = {}): Topology => ({
  publishedRevision: 1,
  lans: [{ id: "z", name: "office", networks: ["100.64.0.0/16", "100.65.0.0/16", "100.66.0.0/16", "100.67.0.0/16"] }],
  lanInterfaces: [],
  gateways: [gw("g1"), gw("g2")],
  isps: [isp("a"), isp("b")],
  ...over,
});

describe("the cluster picture's layout", () => {
  it("puts the four columns left to right without overlaps, each box inside the picture", () => {
    const l = layoutTopology(topo());
    const columns = [l.lans, l.gateways, l.isps, [l.internet]];
    for (let i = 1; i < columns.length; i++) {
      const left = Math.max(...(columns[i - 1] ?? []).map((b) => b.x + b.w));
      for (const b of columns[i] ?? []) expect(b.x).toBeGreaterThan(left);
    }
    for (const column of columns) {
      const sorted = [...column].sort((a, b) => a.y - b.y);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1] as { y: number; h: number };
        expect(sorted[i]?.y).toBeGreaterThanOrEqual(prev.y + prev.h);
      }
      for (const b of column) {
        expect(b.y).toBeGreaterThanOrEqual(0);
        expect(b.y + b.h).toBeLessThanOrEqual(l.height);
        expect(b.x + b.w).toBeLessThanOrEqual(l.width);
      }
    }
    // a zone with many networks names the first three and counts the rest
    expect(l.lans[0]?.lines).toEqual(["100.64.0.0/16", "100.65.0.0/16", "100.66.0.0/16", "and 1 more"]);
  });

  it("draws the LAN interfaces when no zone is defined, else one LAN that says so", () => {
    expect(layoutTopology(topo({ lans: [], lanInterfaces: ["eth0"] })).lans.map((b) => [b.title, b.page])).toEqual([
      ["LAN eth0", "settings"],
    ]);
    expect(layoutTopology(topo({ lans: [] })).lans.map((b) => b.lines)).toEqual([["no zone defined"]]);
  });

  it("says each link's state in words and dashes, not colour alone", () => {
    const up = { gatewayId: "g1", state: "up" as const, via: null, connections: null };
    expect(linkLook(up, gw("g1"))).toEqual({ text: "up", tone: "ok", dash: "" });
    expect(linkLook({ ...up, state: "down" }, gw("g1"))).toMatchObject({ text: "down", dash: "3 3" });
    expect(linkLook({ ...up, state: null }, gw("g1"))).toMatchObject({ text: "no report", tone: "muted" });
    expect(linkLook(up, gw("g1", { online: false }))).toMatchObject({ text: "gateway offline", dash: "2 4" });
    const via = { ispId: "b", name: "cogent", mode: "admin" as const };
    expect(linkLook({ ...up, state: "down", via }, gw("g1"))).toEqual({
      text: "down, failed over by an operator to cogent",
      tone: "warn",
      dash: "8 4",
    });
  });

  it("words gateways, ISPs and pools for their accessible names", () => {
    expect(gatewayText(gw("g1", { role: "master", drained: true }))).toBe("online, VRRP master, drained");
    expect(gatewayText(gw("g1", { online: false, role: "mixed" }))).toBe("offline, VRRP roles differ per group");
    expect(ispText(isp("a", { operatorFailover: { backupName: null, by: "olga" }, failedOver: true }))).toBe(
      "failed over by olga to the first healthy backup",
    );
    expect(ispText(isp("a", { failedOver: true }))).toBe("failed over on some gateways");
    expect(poolText({ name: "p", addresses: 1, fill: null })).toBe("pool p: 1 address");
    expect(poolText({ name: "p", addresses: 8, fill: 0.834 })).toBe("pool p: 8 addresses, 83% of ports used");
  });
});

import { describe, expect, it } from "vitest";
import { isOwnedRule } from "../../agent/apply/routes";
import { gatewaySpec, isp, officeSpec, virtualService } from "../../testkit/spec-fixtures";
import { drMarkOf, drTargetOf, MARK_VS_DR_MASK } from "../spec/marks";
import type { SpecVirtualService } from "../spec/virtual-services";
import { renderNft, renderRuleset } from "./nft";
import { RenderError } from "./plan";
import { renderRoutes } from "./routes";
import { renderServiceUpdate } from "./virtual-services";
import { drClosingMapOf, drFlowMapOf } from "./vs-dr";
import { realServerKey } from "./vs-schedule";

const dr = (over: Partial<SpecVirtualService> = {}, servers = ["100.64.2.2", "100.64.3.2"]) =>
  virtualService(
    "web",
    "198.51.100.90",
    80,
    servers.map((address) => ({ address })),
    { mode: "dr", ...over },
  );

const specWith = (...services: SpecVirtualService[]) =>
  gatewaySpec({
    isps: [isp("a", 1, "ispa", "100.65.1.2")],
    pools: [],
    entries: [],
    virtualServices: services,
  });

describe("direct routing virtual services", () => {
  it("are not tracked: a raw chain, a flow map and one chain per real server setting its DR mark", () => {
    const text = renderRuleset(specWith(dr({ persistenceSeconds: 5 })), new Map());
    const flows = drFlowMapOf(dr());
    expect(text).toContain("add chain inet gatehouse vs_dr { type filter hook prerouting priority raw;");
    expect(text).toContain(
      `add map inet gatehouse ${flows} { type ipv4_addr . inet_service : mark; flags dynamic,timeout; timeout 900s;`,
    );
    expect(text).toContain("\t\tnotrack\n");
    expect(text).toContain(`meta mark set ip saddr . th sport map @${flows} update @${flows}`);
    // TCP: a flow the client closed goes to the closing map and is no longer refreshed
    const closing = drClosingMapOf(dr());
    expect(text).toContain(`\t\tmeta mark set ip saddr . th sport map @${closing} accept\n`);
    // ... and a new connection from its port forgets it first, to be scheduled afresh
    const reuse = text.indexOf(
      `tcp flags & (syn | ack) == syn ip saddr . th sport @${closing} delete @${closing} { ip saddr . th sport : meta mark } delete @${flows} { ip saddr . th sport : meta mark }\n`,
    );
    expect(reuse).toBeGreaterThan(0);
    expect(reuse).toBeLessThan(text.indexOf(`meta mark set ip saddr . th sport map @${closing} accept`));
    expect(text).toContain(
      `tcp flags & (fin | rst) != 0 meta mark set ip saddr . th sport map @${flows} update @${flows} { ip saddr . th sport timeout 120s : meta mark } update @${closing}`,
    );
    expect(text).toContain("numgen inc mod 2 vmap @vs_1_buckets");
    expect(text).toContain("add element inet gatehouse vs_1_buckets { 0 : goto vs_1_rs_1, 1 : goto vs_1_rs_2 }");
    // the mark keeps every bit but the DR fields
    expect(text).toContain(
      `meta mark set meta mark & 0xf0000e00 | 0x${drMarkOf(0x0202).toString(16).padStart(8, "0")}`,
    );
    expect(text).toContain("meta mark set ip saddr map @vs_1_persist_5");
    // no DNAT for it
    expect(text).not.toContain("dnat");
  });

  it("keeps the flows across reloads while other maps are flushed", () => {
    const spec = specWith(dr({ persistenceSeconds: 5 }));
    const first = renderNft(spec, new Map());
    const again = renderNft(spec, new Map(), { chains: first.chains, maps: first.maps, sets: first.sets }).text;
    expect(again).not.toContain(`flush map inet gatehouse ${drFlowMapOf(dr())}`);
    expect(again).not.toContain(`flush map inet gatehouse ${drClosingMapOf(dr())}`);
    expect(again).toContain("flush map inet gatehouse vs_1_buckets");
    expect(again).toContain("flush map inet gatehouse vs_1_persist_5");
  });

  it("routes each real server's mark through its own table, default via the server on its link", () => {
    const routing = renderRoutes(specWith(dr(), dr({ id: "dns", name: "dns", protocol: "udp", port: 53 })));
    const drRules = routing.rules.filter((r) => r.mask === MARK_VS_DR_MASK);
    expect(drRules).toEqual([
      { priority: 601, fwmark: drMarkOf(0x0202), mask: MARK_VS_DR_MASK, table: 740_000 + 0x0202 },
      { priority: 601, fwmark: drMarkOf(0x0302), mask: MARK_VS_DR_MASK, table: 740_000 + 0x0302 },
    ]);
    expect(routing.routes.filter((r) => r.table >= 740_000)).toEqual([
      { table: 740_000 + 0x0202, dst: "default", via: "100.64.2.2" },
      { table: 740_000 + 0x0302, dst: "default", via: "100.64.3.2" },
    ]);
    // the reconciler knows them for its own
    expect(
      isOwnedRule({ priority: 601, fwmark: "0x2020ff", fwmask: "0xffff1ff", table: String(740_000 + 0x0202) }),
    ).toBe(true);
    expect(isOwnedRule({ priority: 601, fwmark: "0x2020ff", table: String(740_000 + 0x0202) })).toBe(false);
    // a spec without DR services has no such rules
    expect(renderRoutes(officeSpec()).rules.some((r) => r.mask === MARK_VS_DR_MASK)).toBe(false);
  });

  it("before routing, a LAN client's DR packet keeps its mark: the reroute lookup leaves it alone", () => {
    const office = officeSpec();
    const text = renderRuleset({ ...office, virtualServices: [dr()] }, new Map());
    const pre = text.slice(text.indexOf("\tchain prerouting {"));
    const guard = pre.indexOf("meta mark & 0x000001ff == 0x000000ff accept");
    expect(guard).toBeGreaterThan(0);
    expect(guard).toBeLessThan(pre.indexOf("fib daddr . mark oifname"));
    expect(renderRuleset(office, new Map())).not.toContain("== 0x000000ff accept");
  });

  it("refuses two DR servers that share their last 16 bits", () => {
    expect(drTargetOf("10.1.2.3")).toBe(drTargetOf("10.9.2.3"));
    expect(() => renderNft(specWith(dr({}, ["10.1.2.3", "10.9.2.3"])), new Map())).toThrow(RenderError);
  });

  it("a health change rewrites the service's buckets; with none up, the sorry server gets the flows", () => {
    const service = dr({ sorryServer: { address: "100.64.1.2", port: null } });
    const spec = specWith(service);
    const rs2 = service.realServers[1];
    if (rs2 === undefined) throw new Error("fixture changed");
    const one = renderServiceUpdate(spec, "web", new Set([realServerKey(service, rs2)]), { dropPersistence: false });
    expect(one).toContain("add element inet gatehouse vs_1_buckets { 0 : goto vs_1_rs_1 }");
    const none = renderServiceUpdate(spec, "web", new Set(service.realServers.map((r) => realServerKey(service, r))), {
      dropPersistence: false,
    });
    expect(none).not.toContain("add element");
    expect(none).toContain("add rule inet gatehouse vs_1 goto vs_1_sorry");
    expect(renderRuleset(spec, new Map())).toContain(`| 0x${drMarkOf(0x0102).toString(16).padStart(8, "0")}`);
  });
});

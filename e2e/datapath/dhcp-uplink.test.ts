import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeTableOf } from "../../core/spec/marks";
import type { GatewaySpec } from "../../core/spec/schema";
import { entry, requireRoot } from "../../testkit/datapath";
import { type DhcpLab, startDhcp } from "../../testkit/lab/dhcp";
import { startHealthService, waitFor } from "../../testkit/lab/health-service";
import { buildLab, type Lab, type LabExchange } from "../../testkit/lab/lab";
import { connect, startFlood, startListener } from "../../testkit/lab/traffic";
import { gatewaySpec, isp } from "../../testkit/spec-fixtures";

/**
 * A DHCP uplink whose next hop changes under traffic: the ISP's DHCP server (dnsmasq in ISP A's
 * namespace, on the exchange segment) first names router A, then router B; the gateway's DHCP
 * client (udhcpc) renews and installs the new default route; the agent notices, re-applies with
 * the learned next hop (its routing table, its probes), and connections keep being masqueraded to
 * the leased address, now through B.
 */

const UDP = 5201;
const TCP = 5200;
let lab: Lab;
let x: LabExchange;
let dhcp: DhcpLab | null = null;
/** the policy's next hop, used only until one is learned */
const PLACEHOLDER = "100.65.9.254";

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 1, exchange: true });
  x = lab.exchange as LabExchange;
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [UDP] });
  // the uplink gets its address from the ISP's DHCP server, not from the lab
  await lab.ip(lab.ns.gateway, [`addr flush dev ${x.gatewayInterface}`]);
  for (const router of [lab.ns.ispA, lab.ns.ispB]) {
    await lab.must(router, ["nft", "-f", "-"], {
      input: [
        "add table inet lab_dhcp",
        "add counter inet lab_dhcp from_lease",
        "add chain inet lab_dhcp watch { type filter hook prerouting priority -300; policy accept; }",
        `add rule inet lab_dhcp watch iifname "${x.routerInterface}" ip saddr 100.65.9.0/24 ip daddr 203.0.113.0/24 counter name from_lease`,
        "",
      ].join("\n"),
    });
  }
}, 60_000);

afterAll(async () => {
  await dhcp?.stop();
  await lab?.destroy();
});

const fromLease = async (ns: string) => {
  const out = await lab.must(ns, ["nft", "-j", "list", "counter", "inet", "lab_dhcp", "from_lease"]);
  const doc = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> };
  return doc.nftables.find((c) => c.counter !== undefined)?.counter?.packets ?? 0;
};
const resetCounters = () =>
  Promise.all(
    [lab.ns.ispA, lab.ns.ispB].map((ns) => lab.must(ns, ["nft", "reset", "counters", "table", "inet", "lab_dhcp"])),
  );

function dhcpSpec(): GatewaySpec {
  return gatewaySpec({
    isps: [
      {
        ...isp("d", 1, x.gatewayInterface, PLACEHOLDER, [{ ispId: "b", defaultPoolId: null }]),
        addressing: "dhcp",
        monitor: {
          intervalMs: 100,
          downAfter: 3,
          upAfter: 2,
          holdDownMs: 0,
          lossThresholdPct: 50,
          latencyThresholdMs: 300,
        },
      },
      isp("b", 2, lab.ispB.gatewayInterface, lab.ispB.nextHop),
    ],
    pools: [{ id: "pm", name: "pm", ispId: "d", mode: "interface", addresses: [], portRange: null }],
    entries: [entry(lab.lan, { snat: "pm" }, { egress: "d" })],
  });
}

describe("a DHCP uplink with an interface-address pool", () => {
  it("follows the lease's next hop as it changes under traffic, masquerading to the leased address", async () => {
    const { health, stop } = startHealthService(lab, { uplinkPollMs: 200 });
    try {
      const applied = await health.apply(dhcpSpec());
      expect(applied.error).toBe("");
      dhcp = await startDhcp(
        lab,
        { ns: lab.ns.ispA, interface: x.routerInterface, range: ["100.65.9.50", "100.65.9.99"], mask: "255.255.255.0" },
        { interface: x.gatewayInterface },
        x.routerA,
      );
      const learned = () => health.ispHealth().find((h) => h.ispId === "d")?.learned;
      expect(await waitFor(() => learned()?.nextHop === x.routerA, 15_000)).toBe(true);
      const leased = learned()?.address as string;
      expect(leased).toMatch(/^100\.65\.9\.(5\d|[6-9]\d)$/);
      // the running spec, its routing table and its probes use the learned next hop
      expect(await waitFor(() => health.controller.running()?.isps[0]?.nextHop === x.routerA, 5_000)).toBe(true);
      expect(health.controller.running()?.isps[0]).toMatchObject({ nextHop: x.routerA, probeTargets: [x.routerA] });
      const table = await lab.must(lab.ns.gateway, ["ip", "-4", "route", "show", "table", String(routeTableOf(1))]);
      expect(table).toContain(`default via ${x.routerA} dev ${x.gatewayInterface}`);
      expect(await waitFor(() => health.monitor.states().get("d") === "up", 5_000)).toBe(true);

      const before = await connect(lab, lab.clients[0]?.ns as string, {
        proto: "tcp",
        dst: lab.servers[0] as string,
        port: TCP,
        count: 3,
      });
      expect(before.map((a) => [a.ok, a.seen])).toEqual([
        [true, leased],
        [true, leased],
        [true, leased],
      ]);

      // a UDP stream runs while the ISP moves its customers to router B
      await resetCounters();
      const flood = startFlood(lab, lab.clients[0]?.ns as string, {
        dst: lab.servers[1] as string,
        dport: UDP,
        seconds: 8,
        rate: 100,
        sockets: 2,
      });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await fromLease(lab.ns.ispA)).toBeGreaterThan(50);
      await dhcp.serve(x.routerB);
      dhcp.renew();
      expect(await waitFor(() => learned()?.nextHop === x.routerB, 10_000)).toBe(true);
      expect(learned()?.address).toBe(leased);
      expect(await waitFor(() => health.controller.running()?.isps[0]?.nextHop === x.routerB, 5_000)).toBe(true);
      const moved = await lab.must(lab.ns.gateway, ["ip", "-4", "route", "show", "table", String(routeTableOf(1))]);
      expect(moved).toContain(`default via ${x.routerB} dev ${x.gatewayInterface}`);
      await resetCounters();
      await new Promise((r) => setTimeout(r, 1_500));
      // the stream now crosses B, still from the leased address; nothing reaches A any more
      expect(await fromLease(lab.ns.ispB)).toBeGreaterThan(50);
      expect(await fromLease(lab.ns.ispA)).toBe(0);
      const result = await flood.result;
      expect(result.errors).toBe(0);
      // probes moved with the next hop and the ISP stays up
      expect(health.controller.running()?.isps[0]?.probeTargets).toEqual([x.routerB]);
      expect(await waitFor(() => health.monitor.states().get("d") === "up", 5_000)).toBe(true);

      const after = await connect(lab, lab.clients[0]?.ns as string, {
        proto: "tcp",
        dst: lab.servers[0] as string,
        port: TCP,
        count: 3,
      });
      expect(after.every((a) => a.ok && a.seen === leased)).toBe(true);
    } finally {
      await stop();
    }
  }, 90_000);
});

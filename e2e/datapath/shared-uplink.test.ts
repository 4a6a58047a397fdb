import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../core/spec/decide";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import { applyOk, entry, POOLS, packet, requireRoot } from "../../testkit/datapath";
import { startHealthService, waitFor } from "../../testkit/lab/health-service";
import { buildLab, type Lab, type LabExchange } from "../../testkit/lab/lab";
import { connect, countFlowsAtIsp, type FlowCounter, startListener } from "../../testkit/lab/traffic";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";

/**
 * Two ISPs on one gateway interface (an exchange segment with two upstream routers), told apart
 * by next hop: each ISP's connections reach its own router with its own pool, whatever routing
 * picks (ECMP over both next hops); each ISP's probes cross its own router; a router that
 * silently blackholes fails its ISP over to the other one on the same interface.
 */

const TCP = 5100;
let lab: Lab;
let x: LabExchange;
let atA: FlowCounter<"pa" | "pb" | "lan">;
let atB: FlowCounter<"pa" | "pb" | "lan">;

const RANGES = { pa: "198.51.100.0/25", pb: "198.51.100.128/25", lan: "100.64.0.0/10" };

function sharedSpec(probe: boolean): GatewaySpec {
  const monitor = {
    intervalMs: 100,
    downAfter: 3,
    upAfter: 3,
    holdDownMs: 0,
    lossThresholdPct: 50,
    latencyThresholdMs: 300,
  };
  const withProbes = (i: SpecIsp, target: string): SpecIsp => ({
    ...i,
    monitor,
    failoverMode: "automatic",
    // a target beyond the router: only a probe that really crosses it gets an answer
    probeTargets: probe ? [target] : i.probeTargets,
  });
  return gatewaySpec({
    isps: [
      withProbes(isp("a", 1, x.gatewayInterface, x.routerA, [{ ispId: "b", defaultPoolId: "pb" }]), "203.0.113.10"),
      withProbes(isp("b", 2, x.gatewayInterface, x.routerB, [{ ispId: "a", defaultPoolId: "pa" }]), "203.0.113.20"),
    ],
    pools: [pool("pa", "a", POOLS.pa), pool("pb", "b", POOLS.pb)],
    entries: [
      entry(lab.lan, { snat: "pa", algorithm: "sh" }, { egress: "a" }),
      entry(lab.lan, { snat: "pb", algorithm: "sh" }, { egress: "b" }),
    ],
    lanInterfaces: lab.clients.map((c) => c.gatewayInterface),
  });
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 2, exchange: true });
  x = lab.exchange as LabExchange;
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [] });
  atA = await countFlowsAtIsp(lab, lab.ns.ispA, x.routerInterface, RANGES);
  atB = await countFlowsAtIsp(lab, lab.ns.ispB, x.routerInterface, RANGES);
  await lab.must(lab.ns.gateway, ["sysctl", "-q", "-w", "net.ipv4.fib_multipath_hash_policy=1"]);
}, 60_000);

afterAll(async () => {
  await lab?.destroy();
});

async function tcp(client: number, count: number, timeoutMs = 1000) {
  const c = lab.clients[client];
  if (c === undefined) throw new Error("no such client");
  return connect(lab, c.ns, { proto: "tcp", dst: lab.servers[0] as string, port: TCP, count, timeoutMs, parallel: 4 });
}

describe("two ISPs on one interface, told apart by next hop", () => {
  it("sends each ISP's connections to its own router with its own pool when routing spreads them (ECMP)", async () => {
    await applyOk(lab, sharedSpec(false));
    await lab.ip(lab.ns.gateway, [
      `route replace default nexthop via ${x.routerA} dev ${x.gatewayInterface} nexthop via ${x.routerB} dev ${x.gatewayInterface}`,
    ]);
    await atA.reset();
    await atB.reset();
    // 3 s each, so a connection whose first SYN was lost shows as slow (the SYN is resent after
    // 1 s) rather than failed: every first SYN must get through, each connect well under that
    const attempts = await tcp(0, 24, 3000);
    expect(attempts.filter((a) => a.ok)).toHaveLength(24);
    expect(attempts.filter((a) => (a.ms ?? Number.POSITIVE_INFINITY) >= 500)).toEqual([]);
    const a = await atA.read();
    const b = await atB.read();
    // nothing crossed the wrong router, nothing left un-NATed, and the hash used both
    expect([a.pb, a.lan, a.other, b.pa, b.lan, b.other]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(a.pa).toBeGreaterThan(0);
    expect(b.pb).toBeGreaterThan(0);
    // every connection is counted once, where it left (a retransmitted first packet would count twice)
    expect(a.pa + b.pb).toBe(24);
    const byPool = new Set(
      attempts.map((t) => (POOLS.pa.includes(t.seen ?? "") ? "pa" : POOLS.pb.includes(t.seen ?? "") ? "pb" : t.seen)),
    );
    expect([...byPool].sort()).toEqual(["pa", "pb"]);
  });

  it("probes each ISP through its own router, and fails a blackholing router's ISP over to the other one", async () => {
    await lab.ip(lab.ns.gateway, [`route replace default via ${x.routerA} dev ${x.gatewayInterface}`]);
    // what crosses each router towards the probe targets
    for (const router of [lab.ns.ispA, lab.ns.ispB]) {
      await lab.must(router, ["nft", "-f", "-"], {
        input: [
          "add table inet lab_probe",
          "add chain inet lab_probe watch { type filter hook forward priority -10; policy accept; }",
          "add counter inet lab_probe to10",
          "add counter inet lab_probe to20",
          `add rule inet lab_probe watch iifname "${x.routerInterface}" ip daddr 203.0.113.10 icmp type echo-request counter name to10`,
          `add rule inet lab_probe watch iifname "${x.routerInterface}" ip daddr 203.0.113.20 icmp type echo-request counter name to20`,
          "",
        ].join("\n"),
      });
    }
    const probes = async (ns: string) => {
      const out = await lab.must(ns, ["nft", "-j", "list", "counters", "table", "inet", "lab_probe"]);
      const doc = JSON.parse(out) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
      const n = (name: string) => doc.nftables.find((c) => c.counter?.name === name)?.counter?.packets ?? 0;
      return { to10: n("to10"), to20: n("to20") };
    };
    const { health, stop } = startHealthService(lab);
    try {
      const spec = { ...sharedSpec(true), failoverEpoch: 1 };
      const applied = await health.apply(spec);
      expect(applied.error).toBe("");
      const up = () => health.monitor.states().get("a") === "up" && health.monitor.states().get("b") === "up";
      expect(await waitFor(up, 10_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      const pa = await probes(lab.ns.ispA);
      const pb = await probes(lab.ns.ispB);
      expect(pa.to10).toBeGreaterThanOrEqual(3);
      expect(pb.to20).toBeGreaterThanOrEqual(3);
      expect([pa.to20, pb.to10]).toEqual([0, 0]);

      // routing picks A: connections leave through A's router with A's pool
      await atA.reset();
      await atB.reset();
      expect((await tcp(1, 6)).every((t) => t.ok && POOLS.pa.includes(t.seen ?? ""))).toBe(true);
      expect((await atA.read()).pa).toBe(6);

      // A's router silently drops what the gateway sends it to forward; its link and ARP stay up
      // (the server's route back to the exchange segment runs through A, which keeps forwarding that way)
      await lab.must(lab.ns.ispA, [
        "nft",
        "add",
        "rule",
        "inet",
        "lab_probe",
        "watch",
        "iifname",
        x.routerInterface,
        "counter",
        "drop",
      ]);
      const failedOver = () => health.controller.snapshot().active.get("a")?.backupIspId === "b";
      const moved0 = await waitFor(failedOver, 10_000);
      expect(
        moved0,
        JSON.stringify({ states: [...health.monitor.states()], snap: health.controller.snapshot().alerts }),
      ).toBe(true);
      expect(health.monitor.states().get("b")).toBe("up");

      await atA.reset();
      await atB.reset();
      // the lookup before routing cannot tell the two ISPs on xch0 apart: the first SYN is dropped
      // once, its retransmission (1 s later) is rerouted through B
      const moved = await tcp(1, 6, 4000);
      expect(moved.every((t) => t.ok && POOLS.pb.includes(t.seen ?? ""))).toBe(true);
      const b = await atB.read();
      expect(b.pb).toBe(6);
      expect((await atA.read()).pa + (await atA.read()).pb).toBe(0);
      const src = lab.clients[1]?.address as string;
      const d = decide(spec, new Map([["a", "b"]]), packet(src, lab.servers[0] as string, "tcp", "a", 40000, TCP));
      expect(d.verdict).toMatchObject({ kind: "snat", ispId: "b", poolId: "pb" });
      expect(d.retried).toBe(true);
    } finally {
      await stop();
    }
  }, 60_000);
});

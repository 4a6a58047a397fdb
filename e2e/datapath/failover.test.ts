import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flushFailedOverConnections, flushIspConnections } from "../../agent/apply/conntrack";
import { decide, type FailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, countAtIsp, type LeakCounter, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, packet, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * Failover state on real traffic: with ISP a failed over to b, connections that routing sends to
 * a leave through b, NATed to the rule's fallback pool or else b's planned default pool; flushing
 * a's connections by mark moves existing flows at once; failback brings new flows home.
 */

const TCP = 5000;
const UDP = 5001;
let lab: Lab;
let spec: GatewaySpec;
let atA: LeakCounter;
let atB: LeakCounter;
const failedOver: FailoverState = new Map([["a", "b"]]);

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3 });
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [UDP] });
  atA = await countAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface);
  atB = await countAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface);
  spec = labSpec(lab, [
    entry("100.64.1.0/24", { snat: "pa", algorithm: "sh" }, { fallback: "pbf" }),
    entry("100.64.2.0/24", { snat: "pa", algorithm: "sdph" }),
    entry("100.64.3.0/24", "exclude"),
  ]);
});

afterAll(async () => {
  await lab?.destroy();
});

async function tcpSeen(client: number): Promise<Array<string | undefined>> {
  const c = lab.clients[client];
  if (c === undefined) throw new Error("no such client");
  const attempts = await connect(lab, c.ns, { proto: "tcp", dst: lab.servers[0] as string, port: TCP, count: 3 });
  expect(attempts.every((a) => a.ok)).toBe(true);
  return attempts.map((a) => a.seen);
}

const poolsOf = (seen: Array<string | undefined>) => [...new Set(seen.map((s) => poolOf(s) ?? s))];

describe("failover on real traffic", () => {
  it("moves new connections to the backup with the fallback or planned pool", async () => {
    await applyOk(lab, spec);
    expect(poolsOf(await tcpSeen(0))).toEqual(["pa"]);

    await applyOk(lab, { ...spec, failoverEpoch: 1 }, failedOver);
    await atA.reset();
    await atB.reset();
    expect(poolsOf(await tcpSeen(0))).toEqual(["pbf"]);
    expect(poolsOf(await tcpSeen(1))).toEqual(["pb"]);
    expect(poolsOf(await tcpSeen(2))).toEqual([lab.clients[2]?.address]);
    expect((await atA.read()).pool + (await atA.read()).lan).toBe(0);
    expect((await atB.read()).pool).toBeGreaterThan(0);
    // the same answers as the console's simulator
    for (const [client, pool] of [
      [0, "pbf"],
      [1, "pb"],
    ] as const) {
      const src = lab.clients[client]?.address as string;
      const v = decide(spec, failedOver, packet(src, lab.servers[0] as string, "tcp", "a", 40000, TCP)).verdict;
      expect(v.kind === "snat" ? [v.ispId, v.poolId] : v.kind).toEqual(["b", pool]);
    }
  });

  it("flushing the failed ISP's connections moves an existing flow at once; failback brings it home", async () => {
    const client = lab.clients[0]?.ns as string;
    const udp = (sport: number) =>
      connect(lab, client, { proto: "udp", dst: lab.servers[1] as string, port: UDP, count: 1, sport }).then(
        (a) => a[0]?.seen,
      );
    const gw = lab.runner(lab.ns.gateway);

    await applyOk(lab, { ...spec, failoverEpoch: 2 });
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    expect(poolOf(await udp(42000))).toBe("pa");

    await applyOk(lab, { ...spec, failoverEpoch: 3 }, failedOver);
    // the flow's conntrack entry still holds its NAT binding to a's pool
    expect(poolOf(await udp(42000))).toBe("pa");
    const flushed = await flushIspConnections(gw, 1);
    expect(flushed.ok).toBe(true);
    expect(flushed.deleted).toBeGreaterThanOrEqual(1);
    expect(poolOf(await udp(42000))).toBe("pbf");

    // failback: a is healthy again; new flows go home, moved ones follow once flushed
    await applyOk(lab, { ...spec, failoverEpoch: 4 });
    expect(poolOf(await udp(42001))).toBe("pa");
    expect(poolOf(await udp(42000))).toBe("pbf");
    const moved = await flushFailedOverConnections(gw, 2);
    expect(moved.deleted).toBeGreaterThanOrEqual(1);
    expect(poolOf(await udp(42000))).toBe("pa");
    // the flows that never moved were left alone
    const left = await lab.must(lab.ns.gateway, ["conntrack", "-L", "-p", "udp", "--sport", "42001"]);
    expect(left).toContain("sport=42001");
  });
});

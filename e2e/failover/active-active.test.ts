import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySpec } from "../../agent/apply/apply-spec";
import { compileGatewaySpec } from "../../core/policy/compile";
import { type Policy, zPolicy } from "../../core/policy/model";
import { planSlices, poolAddresses } from "../../core/policy/pool-slices";
import {
  buildClusterLab,
  type ClusterLab,
  type IspName,
  type SliceRoute,
} from "../../testkit/failover-lab/cluster-lab";
import { LAB_MONITOR } from "../../testkit/failover-lab/provision";
import { type Stream, startEcho, startStream } from "../../testkit/failover-lab/streams";

/**
 * Active/active in namespaces: gateways side by side behind plain ISP routers, LAN clients split
 * between them by their default gateway, each gateway running the agent's own apply with the spec
 * the console compiles for it (its slice of every pool). The routers hold only static routes: each
 * gateway's slice to that gateway's address on the ISP link, from the same plan the Pools page
 * shows. Real UDP and TCP traffic proves each client's replies come back to the gateway that
 * NATed it (no other gateway could translate them back) and that every connection's source is
 * in its own gateway's slice; routing a slice to the wrong gateway breaks exactly its clients.
 *
 * Three gateways are built; the first phase runs two of them, the second adds the third.
 */

let lab: ClusterLab;

const GATEWAY_IDS = ["gw1", "gw2", "gw3"];
/** clients 100.64.1.4-6 leave through ISP B (a redirect), the others through A, the default route */
const VIA_B = ["100.64.1.4/32", "100.64.1.5/32", "100.64.1.6/32"];

function labPolicy(l: ClusterLab): Policy {
  const isp = (id: IspName, index: number, backup: IspName) => ({
    id,
    index,
    name: `isp-${id}`,
    interface: l.isps[id].interface,
    nextHop: l.isps[id].nextHop,
    monitor: LAB_MONITOR,
    failoverMode: "manual",
    backupIspIds: [backup],
    defaultPoolId: `pool-${id}`,
  });
  return zPolicy.parse({
    settings: { unmatched: "drop", hashSeed: 0x5eed, ha: { mode: "none" } },
    isps: [isp("a", 1, "b"), isp("b", 2, "a")],
    pools: (["a", "b"] as const).map((id) => ({
      id: `pool-${id}`,
      name: `pool-${id}`,
      ispId: id,
      addresses: [`${l.pools[id][0]}-${l.pools[id].at(-1)}`],
    })),
    zones: [],
    rules: [
      {
        id: "via-b",
        seq: 1,
        source: { kind: "cidrs", cidrs: VIA_B },
        redirectIspId: "b",
        action: { type: "snat", poolId: "pool-b", algorithm: "sh" },
      },
      {
        id: "via-a",
        seq: 2,
        source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
        egressIspId: "a",
        action: { type: "snat", poolId: "pool-a", algorithm: "sh" },
      },
    ],
  });
}

/** Compiles and applies each member's spec on its lab gateway; returns who owns which address. */
async function runCluster(policy: Policy, members: string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const id of members) {
    const spec = compileGatewaySpec({
      policy,
      revision: members.length,
      clusterId: "aa-lab",
      clusterName: "aa-lab",
      gateway: { id, name: id },
      failover: [],
      failoverEpoch: 0,
      gateways: members.map((g) => ({ id: g, name: g, drained: false })),
    });
    for (const pool of spec.pools) for (const a of pool.addresses) owners.set(a, id);
    const r = await applySpec(spec, new Map(), { runner: lab.runner(lab.gateways[GATEWAY_IDS.indexOf(id)]?.ns ?? "") });
    expect(r.error, `apply on ${id}`).toBeNull();
  }
  return owners;
}

/** The upstream as the Pools page describes it, installed on the ISP routers. */
async function routeUpstream(policy: Policy, members: string[]): Promise<void> {
  const plan = planSlices(policy, members);
  expect(plan.inForce).toBe(true);
  const routes: SliceRoute[] = plan.upstream.map((u) => ({
    isp: u.ispId as IspName,
    gateway: GATEWAY_IDS.indexOf(u.gatewayId) + 1,
    cidrs: u.routed,
  }));
  await lab.routeSlices(routes);
}

interface ClientRun {
  client: string;
  gateway: string;
  udp: Stream;
  tcp: Stream;
}

/** UDP and TCP streams (one message per 10 ms for 2 s) from every client of these gateways. */
async function traffic(members: string[]): Promise<ClientRun[]> {
  const runs: ClientRun[] = lab.clients
    .filter((c) => members.includes(`gw${c.gateway}`))
    .map((c) => ({
      client: c.address,
      gateway: `gw${c.gateway}`,
      udp: startStream(lab, c.ns, { proto: "udp", seconds: 2, intervalMs: 10 }),
      tcp: startStream(lab, c.ns, { proto: "tcp", seconds: 2, intervalMs: 10 }),
    }));
  await Promise.all(runs.flatMap((r) => [r.udp.process.exited, r.tcp.process.exited]));
  return runs;
}

const summaryOf = (s: Stream) => s.events().find((e) => e.event === "summary");
/** every source address the server saw on this stream (UDP: one socket; TCP: every connection) */
const seenBy = (s: Stream) =>
  new Set(
    s
      .events()
      .filter((e) => e.event === "reply")
      .map((e) => e.seen?.split(":")[0] ?? ""),
  );

function expectEachClientServedByItsGateway(runs: ClientRun[], owners: Map<string, string>, policy: Policy) {
  const slice = (poolId: string, gw: string) => {
    const pool = policy.pools.find((p) => p.id === poolId);
    if (pool === undefined) throw new Error(`no pool ${poolId}`);
    return poolAddresses(pool).filter((a) => owners.get(a) === gw);
  };
  for (const r of runs) {
    const pool = VIA_B.includes(`${r.client}/32`) ? "pool-b" : "pool-a";
    for (const [proto, s] of [
      ["udp", r.udp],
      ["tcp", r.tcp],
    ] as const) {
      const summary = summaryOf(s);
      const what = `${proto} from ${r.client} through ${r.gateway}`;
      expect(summary?.sent, what).toBeGreaterThan(20);
      // replies come back: the ISP routed them to the gateway that holds the connection
      expect(summary?.received ?? 0, what).toBeGreaterThanOrEqual((summary?.sent ?? 0) - 5);
      const seen = [...seenBy(s)];
      expect(seen.length, what).toBeGreaterThan(0);
      for (const a of seen) expect(slice(pool, r.gateway), `${what}: source ${a}`).toContain(a);
    }
    // one TCP connection for the whole run: it never broke and had to be reopened
    expect(summaryOf(r.tcp)?.connections?.length, `tcp from ${r.client}`).toBe(1);
  }
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("the active/active test creates network namespaces: run it as root");
  lab = await buildClusterLab({ gateways: 3, clients: 6, prefix: "ghaa" });
  await startEcho(lab, 120);
}, 60_000);

afterAll(async () => {
  await lab?.destroy();
});

describe("active/active gateways behind plain routers", () => {
  it("serves each client through its own gateway, from that gateway's slice; a misrouted slice breaks only its clients", async () => {
    const policy = labPolicy(lab);
    const members = ["gw1", "gw2"];
    const owners = await runCluster(policy, members);
    await routeUpstream(policy, members);
    const runs = await traffic(members);
    expect(runs.map((r) => r.gateway).sort()).toEqual(["gw1", "gw1", "gw2", "gw2"]);
    expectEachClientServedByItsGateway(runs, owners, policy);

    // the negative control: an upstream that routes whole pools to gw1 (what a lab router that
    // ignores slices would do) leaves gw2's clients without replies, gw1's untouched
    await lab.routeSlices((["a", "b"] as const).map((isp) => ({ isp, gateway: 1, cidrs: [lab.isps[isp].poolRange] })));
    const broken = await traffic(members);
    for (const r of broken) {
      const received = summaryOf(r.udp)?.received ?? 0;
      if (r.gateway === "gw1") expect(received, `udp from ${r.client}`).toBeGreaterThan(20);
      else expect(received, `udp from ${r.client}`).toBe(0);
    }
  }, 60_000);

  it("a third gateway takes about its share of addresses, and all three serve their own clients", async () => {
    const policy = labPolicy(lab);
    const before = await runCluster(policy, ["gw1", "gw2"]);
    const after = await runCluster(policy, GATEWAY_IDS);
    const total = before.size;
    const moved = [...before].filter(([a, g]) => after.get(a) !== g);
    const toNewcomer = [...after.values()].filter((g) => g === "gw3").length;
    // every address gw3 owns moved to it; bounded loads may shuffle at most one more per pool
    expect(moved.filter(([a]) => after.get(a) === "gw3").length).toBe(toNewcomer);
    expect(toNewcomer).toBe(total / 3);
    expect(moved.length).toBeLessThanOrEqual(toNewcomer + policy.pools.length);

    await routeUpstream(policy, GATEWAY_IDS);
    const runs = await traffic(GATEWAY_IDS);
    expect(runs.map((r) => r.gateway).sort()).toEqual(["gw1", "gw1", "gw2", "gw2", "gw3", "gw3"]);
    expectEachClientServedByItsGateway(runs, after, policy);
  }, 60_000);
});

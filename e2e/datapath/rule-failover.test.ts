import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failoverStateOf, planFailover } from "../../agent/health/failover-plan";
import { decide, type FailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { ipBatch, Namespaces } from "../../testkit/lab/namespaces";
import { connect, countAtIsp, type LeakCounter, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, packet, poolOf, requireRoot } from "../../testkit/datapath";
import { isp, pool } from "../../testkit/spec-fixtures";

/**
 * Per-rule failover behaviour on real traffic. The lab gets a third ISP, c (its own router
 * namespace, routing 203.0.113.192/26 back to the gateway). ISP a fails over to its backup b,
 * decided by the agent's own planner from a's measured state; then:
 * - a "follow" rule moves to b with b's default pool;
 * - a "never move" rule stays on a with a's pool: it works while a still forwards, and its
 *   connections die with a once a's router stops forwarding;
 * - an "own backup" rule goes to c with the rule's pool on c.
 */

const TCP = 5100;
const POOL_C = ["203.0.113.200", "203.0.113.201"];
let lab: Lab;
let extra: Namespaces;
let ispC: string;
let spec: GatewaySpec;
let atA: LeakCounter;

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3, prefix: "ghrf" });
  // ISP c: a router namespace between the gateway and the server, deleted by name afterwards
  extra = new Namespaces();
  ispC = `ghrf-${lab.runId}-ispc`;
  await extra.add(ispC);
  await ipBatch(lab.ns.gateway, [
    `link add ispc type veth peer name gw0 netns ${ispC}`,
    "addr add 100.65.3.1/24 dev ispc",
    "link set ispc up",
  ]);
  await ipBatch(ispC, [
    "link set lo up",
    `link add srv0 type veth peer name ispc netns ${lab.ns.server}`,
    "addr add 100.65.3.2/24 dev gw0",
    "link set gw0 up",
    "addr add 100.66.3.1/24 dev srv0",
    "link set srv0 up",
    "route add 203.0.113.0/24 via 100.66.3.2 dev srv0",
    "route add 203.0.113.192/26 via 100.65.3.1 dev gw0",
  ]);
  await lab.must(ispC, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0"]);
  await ipBatch(lab.ns.server, [
    "addr add 100.66.3.2/24 dev ispc",
    "link set ispc up",
    "route add 203.0.113.192/26 via 100.66.3.1 dev ispc",
  ]);
  await lab.must(lab.ns.server, ["sysctl", "-q", "-w", "net.ipv4.conf.ispc.rp_filter=0"]);

  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP] });
  atA = await countAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface);
  const base = labSpec(lab, [
    entry("100.64.1.0/24", { snat: "pa", algorithm: "sh" }, { egress: "a" }),
    entry("100.64.2.0/24", { snat: "pa", algorithm: "sh" }, { egress: "a", onFailover: "stay" }),
    entry(
      "100.64.3.0/24",
      { snat: "pa", algorithm: "sh" },
      { egress: "a", onFailover: "own", failoverIsp: "c", fallback: "pc" },
    ),
  ]);
  const [a, b] = base.isps;
  spec = {
    ...base,
    isps: [
      { ...(a as GatewaySpec["isps"][number]), failoverMode: "automatic" },
      b as GatewaySpec["isps"][number],
      { ...isp("c", 3, "ispc", "100.65.3.2"), defaultPoolId: "pc" },
    ],
    pools: [...base.pools, pool("pc", "c", POOL_C)],
  };
});

afterAll(async () => {
  await lab?.destroy();
  await extra?.destroy();
});

/** What the server saw as the source of a client's TCP connections (undefined: it never arrived). */
async function seen(client: number, count = 3): Promise<Array<string | undefined>> {
  const c = lab.clients[client];
  if (c === undefined) throw new Error("no such client");
  const attempts = await connect(lab, c.ns, {
    proto: "tcp",
    dst: lab.servers[0] as string,
    port: TCP,
    count,
    timeoutMs: 800,
  });
  return attempts.map((x) => (x.ok ? x.seen : undefined));
}
const where = (list: Array<string | undefined>) => [
  ...new Set(list.map((s) => (s === undefined ? "lost" : (poolOf(s) ?? (POOL_C.includes(s) ? "pc" : s))))),
];

describe("per-rule failover on real traffic", () => {
  it("before any failover every rule leaves through a with a's pool", async () => {
    await applyOk(lab, spec);
    for (const client of [0, 1, 2]) expect(where(await seen(client))).toEqual(["pa"]);
  });

  it("a down: follow moves to b, own goes to c with its pool, never-move stays on a", async () => {
    // the agent's own decision from a's measured state, no console involved
    const plan = planFailover({ spec, health: new Map([["a", "down"]]), previous: new Map(), held: new Set(), now: 0 });
    const failover: FailoverState = failoverStateOf(plan.active);
    expect([...failover]).toEqual([["a", "b"]]);
    await applyOk(lab, { ...spec, failoverEpoch: 1 }, failover);
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);

    expect(where(await seen(0))).toEqual(["pb"]);
    expect(where(await seen(2))).toEqual(["pc"]);
    // a still forwards here: the rule that never moves keeps working through it
    await atA.reset();
    expect(where(await seen(1))).toEqual(["pa"]);
    expect((await atA.read()).pool).toBeGreaterThan(0);

    // the simulator gives the same answers
    const expected: Array<[number, string, string]> = [
      [0, "b", "pb"],
      [1, "a", "pa"],
      [2, "c", "pc"],
    ];
    for (const [client, ispId, poolId] of expected) {
      const src = lab.clients[client]?.address as string;
      const v = decide(spec, failover, packet(src, lab.servers[0] as string, "tcp", "a", 40000, TCP)).verdict;
      expect(v.kind === "snat" ? [v.ispId, v.poolId] : v.kind).toEqual([ispId, poolId]);
    }
  });

  it("once a really stops forwarding, the never-move rule's connections drop with it and the others keep working", async () => {
    await lab.must(lab.ns.ispA, ["nft", "-f", "-"], {
      input:
        "add table inet dead\nadd chain inet dead blackhole { type filter hook forward priority 0; policy drop; }\n",
    });
    try {
      await atA.reset();
      expect(where(await seen(1, 2))).toEqual(["lost"]);
      // they did reach a, with a's addresses, and went no further
      expect((await atA.read()).pool).toBeGreaterThan(0);
      expect(where(await seen(0))).toEqual(["pb"]);
      expect(where(await seen(2))).toEqual(["pc"]);
    } finally {
      await lab.must(lab.ns.ispA, ["nft", "delete", "table", "inet", "dead"]);
    }
  });
});

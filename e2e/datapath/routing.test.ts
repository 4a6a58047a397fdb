import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Datapath } from "../../agent/apply/datapath";
import type { CommandRunner } from "../../agent/apply/runner";
import { factsGatherer } from "../../agent/cli/facts";
import type { FailoverState } from "../../core/spec/decide";
import { MARK_ISP_MASK } from "../../core/spec/marks";
import type { GatewaySpec } from "../../core/spec/schema";
import { applyOk, entry, labSpec, POOLS, poolOf, requireRoot } from "../../testkit/datapath";
import type { IpRuleCheck } from "../../core/protocol/agent-api";
import { startHealthService, waitFor } from "../../testkit/lab/health-service";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { type Attempt, connect, countFlowsAtIsp, type FlowCounter, startListener } from "../../testkit/lab/traffic";

/**
 * The datapath follows the route the kernel really takes: an ECMP default route over both ISPs,
 * the operator's own iif and fwmark ip rules, and the operator's rules at several priorities
 * around Gatehouse's redirects and failovers. Each ISP router counts the new connections that
 * reach it by source range: a connection must carry the pool of the ISP it really leaves by.
 */

const TCP = 5100;
const UDP = 5101;
let lab: Lab;
type Ranges = "lan" | "poolA" | "poolB";
let atA: FlowCounter<Ranges>;
let atB: FlowCounter<Ranges>;
let spec: GatewaySpec;

/** A rule per egress ISP: whatever routing picks, the pool must be that ISP's. */
const byEgress = () => [
  entry("100.64.0.0/10", { snat: "pa", algorithm: "sdph" }, { egress: "a", ruleId: "via-a" }),
  entry("100.64.0.0/10", { snat: "pb", algorithm: "sdph" }, { egress: "b", ruleId: "via-b" }),
];

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3, prefix: "ghrt" });
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [UDP], seconds: 600 });
  const ranges = { lan: lab.lan, poolA: lab.ispA.poolRange, poolB: lab.ispB.poolRange };
  atA = await countFlowsAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface, ranges);
  atB = await countFlowsAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface, ranges);
  spec = labSpec(lab, byEgress());
}, 60_000);

afterAll(async () => {
  await lab?.destroy();
});

/** Source ports never repeat within a run, so every connection is a new flow for the ISP router's count. */
let nextPort = 20_000;

async function flows(client: number, proto: "tcp" | "udp", count: number, timeoutMs = 2000): Promise<Attempt[]> {
  const c = lab.clients[client];
  if (c === undefined) throw new Error("no such client");
  const sport = nextPort;
  nextPort += count;
  return connect(lab, c.ns, {
    sport,
    proto,
    dst: lab.servers[0] as string,
    port: proto === "tcp" ? TCP : UDP,
    count,
    timeoutMs,
    parallel: 8,
  });
}

async function resetCounts(): Promise<void> {
  await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
  await atA.reset();
  await atB.reset();
}

/** Connection marks on the gateway by the pool address the connection got (the reply's destination). */
async function marksByPool(): Promise<Array<{ pool: string | null; isp: number }>> {
  const out = await lab.must(lab.ns.gateway, ["conntrack", "-L", "-n"]);
  return out
    .split("\n")
    .filter((l) => l.includes("mark="))
    .map((l) => {
      const dsts = [...l.matchAll(/dst=(\S+)/g)].map((m) => m[1]);
      const mark = Number(/mark=(\d+)/.exec(l)?.[1] ?? "0");
      return { pool: poolOf(dsts[1]), isp: mark & MARK_ISP_MASK };
    });
}

const ISP_OF_POOL: Record<string, number> = { pa: 1, pa2: 1, pb: 2, pbf: 2 };

describe("routing the kernel really does", () => {
  it("ECMP default route: every connection carries the pool of the ISP it leaves by, both ways, tcp and udp", async () => {
    await lab.ip(lab.ns.gateway, [
      `route replace default nexthop via ${lab.ispA.nextHop} dev ${lab.ispA.gatewayInterface} nexthop via ${lab.ispB.nextHop} dev ${lab.ispB.gatewayInterface}`,
    ]);
    // hash on ports too, so the connections of one client spread over both next hops
    await lab.must(lab.ns.gateway, ["sysctl", "-q", "-w", "net.ipv4.fib_multipath_hash_policy=1"]);
    await applyOk(lab, spec);
    for (const proto of ["tcp", "udp"] as const) {
      await resetCounts();
      const attempts = await flows(0, proto, 96);
      // every connection was answered: the replies found their way back through the same ISP
      expect(attempts.filter((a) => !a.ok)).toEqual([]);
      expect(attempts.every((a) => poolOf(a.seen) === "pa" || poolOf(a.seen) === "pb")).toBe(true);
      const a = await atA.read();
      const b = await atB.read();
      expect({ proto, aForeign: a.poolB + a.lan + a.other, bForeign: b.poolA + b.lan + b.other }).toEqual({
        proto,
        aForeign: 0,
        bForeign: 0,
      });
      // the hash really spread them, and each was seen once
      expect(a.poolA).toBeGreaterThan(10);
      expect(b.poolB).toBeGreaterThan(10);
      expect(a.poolA + b.poolB).toBe(96);
      // the connection mark (what a failover flushes by, what health counts) names the real ISP
      const marks = await marksByPool();
      expect(marks.length).toBeGreaterThanOrEqual(96);
      for (const m of marks) expect([m.pool, m.isp]).toEqual([m.pool, ISP_OF_POOL[m.pool ?? ""] ?? -1]);
    }
  });

  it("the operator's iif and fwmark ip rules: those flows get ISP b's pool and b's connection mark", async () => {
    await lab.must(lab.ns.gateway, ["sysctl", "-q", "-w", "net.ipv4.fib_multipath_hash_policy=0"]);
    await lab.ip(lab.ns.gateway, [
      `route replace default via ${lab.ispA.nextHop} dev ${lab.ispA.gatewayInterface}`,
      `route replace default via ${lab.ispB.nextHop} dev ${lab.ispB.gatewayInterface} table 200`,
      `rule add priority 1000 iif ${lab.clients[1]?.gatewayInterface} from 100.64.2.0/24 lookup 200`,
      "rule add priority 1001 fwmark 0x10000000/0x10000000 lookup 200",
    ]);
    // the operator's own table marks client 3 before Gatehouse's hooks run
    await lab.must(lab.ns.gateway, ["nft", "-f", "-"], {
      input: [
        "add table inet operator",
        "add chain inet operator pre { type filter hook prerouting priority -200; policy accept; }",
        "add rule inet operator pre ip saddr 100.64.3.0/24 meta mark set meta mark | 0x10000000",
        "",
      ].join("\n"),
    });
    try {
      await applyOk(lab, { ...spec, revision: 2 });
      for (const proto of ["tcp", "udp"] as const) {
        await resetCounts();
        const home = await flows(0, proto, 10);
        const byIif = await flows(1, proto, 10);
        const byMark = await flows(2, proto, 10);
        for (const set of [home, byIif, byMark]) expect(set.filter((x) => !x.ok)).toEqual([]);
        expect(home.map((x) => poolOf(x.seen))).toEqual(Array(10).fill("pa"));
        expect(byIif.map((x) => poolOf(x.seen))).toEqual(Array(10).fill("pb"));
        expect(byMark.map((x) => poolOf(x.seen))).toEqual(Array(10).fill("pb"));
        const a = await atA.read();
        const b = await atB.read();
        expect({ a, b }).toEqual({
          a: { lan: 0, poolA: 10, poolB: 0, other: 0 },
          b: { lan: 0, poolA: 0, poolB: 20, other: 0 },
        });
        const marks = await marksByPool();
        expect(marks.filter((m) => m.pool === "pb").map((m) => m.isp)).toEqual(Array(20).fill(2));
      }
    } finally {
      await lab.ip(lab.ns.gateway, [
        `rule del priority 1000 iif ${lab.clients[1]?.gatewayInterface} from 100.64.2.0/24 lookup 200`,
        "rule del priority 1001 fwmark 0x10000000/0x10000000 lookup 200",
      ]);
      await lab.must(lab.ns.gateway, ["nft", "delete", "table", "inet", "operator"]);
    }
  });

  it("operator rules at 1000, 7100 and without prio: redirects and failovers win, a rule that still overrides them is reported and the failover is not effective", async () => {
    const gw = lab.runner(lab.ns.gateway);
    const datapath = new Datapath({ runner: gw });
    const failedOver: FailoverState = new Map([["a", "b"]]);
    const rerouting = labSpec(
      lab,
      [
        entry("100.64.1.0/24", { snat: "pb", algorithm: "sh" }, { redirect: "b", ruleId: "redirect" }),
        entry("100.64.2.0/24", { snat: "pa", algorithm: "sh" }, { ruleId: "client2" }),
        entry("100.64.3.0/24", { snat: "pa", algorithm: "sh" }, { ruleId: "client3" }),
      ],
      { revision: 3 },
    );
    // a gateway where the agent has not run yet: none of Gatehouse's rules (those looking up its tables) are there
    const present = JSON.parse(await lab.must(lab.ns.gateway, ["ip", "-4", "-j", "rule", "show"])) as Array<{
      priority: number;
      table?: string;
    }>;
    for (const r of present.filter((x) => Number(x.table) > 7100 && Number(x.table) <= 7350)) {
      await lab.must(lab.ns.gateway, ["ip", "rule", "del", "priority", String(r.priority), "lookup", String(r.table)]);
    }
    // the operator sends every client through ISP a, in a table of their own, at three priorities
    await lab.ip(lab.ns.gateway, [
      `route replace default via ${lab.ispA.nextHop} dev ${lab.ispA.gatewayInterface} table 300`,
      "rule add priority 1000 from 100.64.1.0/24 lookup 300",
      "rule add priority 7100 from 100.64.2.0/24 lookup 300",
      // without prio: lands just before the lowest rule there is (999 here)
      "rule add from 100.64.3.0/24 lookup 300",
    ]);
    try {
      const before = await lab.must(lab.ns.gateway, ["ip", "-4", "rule", "show"]);
      expect(before).toMatch(/^999:\s+from 100\.64\.3\.0\/24 lookup 300/m);
      await applyOk(lab, rerouting, failedOver);
      await resetCounts();
      for (const client of [0, 1, 2]) {
        const got = await flows(client, "tcp", 8);
        expect(got.filter((x) => !x.ok)).toEqual([]);
        expect(got.map((x) => poolOf(x.seen))).toEqual(Array(8).fill("pb"));
      }
      expect(await atA.read()).toEqual({ lan: 0, poolA: 0, poolB: 0, other: 0 });
      expect((await atB.read()).poolB).toBe(24);
      expect((await datapath.ruleConflicts(rerouting)).conflicts).toEqual([]);
      const check = await datapath.verifyFailover(rerouting, failedOver);
      expect(check.problems.get("a")).toEqual([]);
      expect(check.ok).toBe(true);

      // added without prio once the agent runs: it lands before Gatehouse's rules and overrides them
      await lab.ip(lab.ns.gateway, ["rule add from 100.64.3.0/24 lookup 300"]);
      const rules = await lab.must(lab.ns.gateway, ["ip", "-4", "rule", "show"]);
      expect(rules).toMatch(/^100:\s+from 100\.64\.3\.0\/24 lookup 300/m);
      const conflicts = (await datapath.ruleConflicts(rerouting)).conflicts;
      expect(conflicts).toEqual([{ priority: 100, rule: "from 100.64.3.0/24 lookup 300", before: 101 }]);
      const after = await datapath.verifyFailover(rerouting, failedOver);
      expect(after.ok).toBe(false);
      expect(after.problems.get("a")?.join("\n")).toMatch(
        /100\.64\.3\.254 -> 203\.0\.113\.1 marked for b leaves by ispa via 100\.65\.1\.2, not ispb/,
      );
      // the datapath never sends b's addresses out through a: the overridden connections are dropped
      await resetCounts();
      const overridden = await flows(2, "tcp", 4, 1500);
      expect(overridden.filter((x) => x.ok)).toEqual([]);
      const stillFine = await flows(1, "tcp", 4);
      expect(stillFine.map((x) => poolOf(x.seen))).toEqual(Array(4).fill("pb"));
      expect(await atA.read()).toEqual({ lan: 0, poolA: 0, poolB: 0, other: 0 });
      const verify = await lab.must(lab.ns.gateway, ["nft", "list", "chain", "inet", "gatehouse", "reroute_verify"]);
      expect(Number(/counter packets (\d+)/.exec(verify)?.[1] ?? "0")).toBeGreaterThanOrEqual(4);
    } finally {
      await lab.ip(lab.ns.gateway, [
        "rule del priority 1000 from 100.64.1.0/24 lookup 300",
        "rule del priority 7100 from 100.64.2.0/24 lookup 300",
      ]);
      for (let i = 0; i < 2; i++)
        await lab.exec(lab.ns.gateway, ["ip", "rule", "del", "from", "100.64.3.0/24", "lookup", "300"]);
    }
  });

  it("a failover with an ECMP default route moves every connection off the failed ISP, the misjudged ones after one retransmission", async () => {
    await lab.ip(lab.ns.gateway, [
      // b first: the lookup before routing says b for everything, the hash sends some to a
      `route replace default nexthop via ${lab.ispB.nextHop} dev ${lab.ispB.gatewayInterface} nexthop via ${lab.ispA.nextHop} dev ${lab.ispA.gatewayInterface}`,
    ]);
    await lab.must(lab.ns.gateway, ["sysctl", "-q", "-w", "net.ipv4.fib_multipath_hash_policy=1"]);
    const failedOver: FailoverState = new Map([["a", "b"]]);
    await applyOk(lab, { ...spec, revision: 4 }, failedOver);
    await resetCounts();
    // TCP retransmits its SYN after a second: allow for it
    const attempts = await flows(0, "tcp", 32, 4000);
    expect(attempts.filter((a) => !a.ok)).toEqual([]);
    expect(attempts.every((a) => POOLS.pb.includes(a.seen as string))).toBe(true);
    expect(await atA.read()).toEqual({ lan: 0, poolA: 0, poolB: 0, other: 0 });
    expect((await atB.read()).poolB).toBe(32);
    const misrouted = await lab.must(lab.ns.gateway, ["nft", "list", "chain", "inet", "gatehouse", "misroute_1"]);
    // the hash did send some of them to a first
    expect(Number(/counter packets (\d+)/.exec(misrouted)?.[1] ?? "0")).toBeGreaterThan(0);
  });

  it("the running agent reports an operator rule that overrides its own as soon as it is added, and when it is gone (no polling: its periodic check is a minute)", async () => {
    const checks: IpRuleCheck[] = [];
    const { health, stop } = startHealthService(lab, { setIpRules: (c) => checks.push(c) });
    await lab.ip(lab.ns.gateway, [
      `route replace default via ${lab.ispA.nextHop} dev ${lab.ispA.gatewayInterface} table 300`,
    ]);
    try {
      const rerouting = labSpec(
        lab,
        [entry("100.64.1.0/24", { snat: "pb", algorithm: "sh" }, { redirect: "b", ruleId: "redirect" })],
        { revision: 6 },
      );
      expect((await health.apply(rerouting)).error).toBe("");
      const latest = () => checks[checks.length - 1];
      expect(await waitFor(() => latest()?.conflicts.length === 0, 5_000)).toBe(true);
      // the agent's own rules settle first: no check runs for a second unless something changes
      await new Promise((r) => setTimeout(r, 1000));
      const seen = checks.length;
      const added = Date.now();
      await lab.ip(lab.ns.gateway, ["rule add from 100.64.1.0/24 lookup 300"]);
      expect(await waitFor(() => (latest()?.conflicts.length ?? 0) > 0, 2_000)).toBe(true);
      expect(Date.now() - added).toBeLessThan(2_000);
      expect(checks.length).toBeGreaterThan(seen);
      expect(latest()?.conflicts).toEqual([
        { priority: expect.any(Number), rule: "from 100.64.1.0/24 lookup 300", before: expect.any(Number) },
      ]);
      await lab.ip(lab.ns.gateway, ["rule del from 100.64.1.0/24 lookup 300"]);
      expect(await waitFor(() => latest()?.conflicts.length === 0, 2_000)).toBe(true);
    } finally {
      await stop();
      await lab.exec(lab.ns.gateway, ["ip", "rule", "del", "from", "100.64.1.0/24", "lookup", "300"]);
      await lab.exec(lab.ns.gateway, ["ip", "route", "flush", "table", "300"]);
    }
  });

  it("the facts the agent reports follow an address added on the gateway, read again only when the kernel says so", async () => {
    const runner = lab.runner(lab.ns.gateway);
    const reads: string[] = [];
    const counting: CommandRunner = {
      run: (args, o) => {
        reads.push(args.join(" "));
        return runner.run(args, o);
      },
    };
    const { health, stop } = startHealthService(lab, { onInterfacesChanged: () => facts.changed() });
    const facts = factsGatherer({ runner: counting, warn: () => {}, watched: () => health.watchingLinks() });
    const ADDED = "198.51.100.77/32";
    const has = async () => (await facts()).interfaces.some((i) => i.addresses.includes(ADDED));
    try {
      expect(await has()).toBe(false);
      // the link watcher starts with the first spec; then nothing changes: no new read
      expect((await health.apply(labSpec(lab, [], { revision: 7 }))).error).toBe("");
      expect(health.watchingLinks()).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      await facts();
      const before = reads.filter((r) => r === "ip -j addr").length;
      await facts();
      expect(reads.filter((r) => r === "ip -j addr").length).toBe(before);
      await lab.ip(lab.ns.gateway, [`addr add ${ADDED} dev lo`]);
      expect(await waitFor(has, 2_000)).toBe(true);
    } finally {
      await stop();
      await lab.exec(lab.ns.gateway, ["ip", "addr", "del", ADDED, "dev", "lo"]);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { readRuleCounters } from "../../agent/health/rule-counter-reader";
import { RuleCounterShell } from "../../agent/health/rule-counter-shell";
import { execSpawner, type ProcessSpawner } from "../../agent/health/spawner";
import { RuleCounterTally } from "../../agent/health/rule-counters";
import { startHealthService, waitFor } from "../../testkit/lab/health-service";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, type Listener, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, loadedRuleCounterKeys, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * Rule counters on real traffic: N connections through rule A move A's counter by exactly N and
 * leave rule B's at 0, whether the connection is decided after routing or rerouted before it
 * (failover); every packet of those connections, both ways, moves A's traffic counter (as many
 * packets and bytes as the client itself counts); reloads keep what was counted, a slot that
 * goes to another rule starts from zero, and the static counter set of earlier agents goes.
 */

const TCP = 5100;
const UDP = 5101;
// client 0 gets extra source addresses in these networks: A covers them, B never sees traffic
const NET_A = 111;
const NET_B = 112;
const sourcesA = Array.from({ length: 6 }, (_, i) => `100.64.${NET_A}.${i + 1}`);

let lab: Lab;
let listener: Listener;

function spec(revision: number, withB = true): GatewaySpec {
  return labSpec(
    lab,
    [
      entry(`100.64.${NET_A}.0/24`, { snat: "pa", algorithm: "sh" }, { ruleId: "count-a" }),
      ...(withB ? [entry(`100.64.${NET_B}.0/24`, { snat: "pb", algorithm: "sh" }, { ruleId: "count-b" })] : []),
      entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { ruleId: "lan" }),
    ],
    { revision },
  );
}

/** commands in the gateway's namespace, streamed, as the agent's reader runs them */
const gatewaySpawner = () => execSpawner({ prefix: ["ip", "netns", "exec", lab.ns.gateway] });

let shell: RuleCounterShell;

/**
 * the rules' counters as the agent reads them (through its long-lived nft), under the ruleset the
 * last applyOk loaded; a `nft list set` process of its own reads the same
 */
async function readCounters() {
  const { keys } = loadedRuleCounterKeys(lab);
  const read = await shell.read(keys);
  expect(shell.usable()).toBe(true);
  const once = await readRuleCounters(gatewaySpawner(), keys);
  expect(Object.fromEntries(once.counters)).toEqual(Object.fromEntries(read.counters));
  return read.counters;
}

/** new connections per counted rule: 0 for a rule whose counters are not in the set (none moved lately) */
async function counts(): Promise<Record<string, number>> {
  const r = await readCounters();
  return Object.fromEntries(loadedRuleCounterKeys(lab).rules.map((id) => [id, r.get(id)?.connections ?? 0]));
}

/** n TCP connections and n UDP exchanges (each its own source port: a new connection) from A's sources. */
async function sendThroughA(n: number, sport: number): Promise<void> {
  const client = lab.clients[0]?.ns as string;
  const dst = lab.servers[0] as string;
  for (const proto of ["tcp", "udp"] as const) {
    const port = proto === "tcp" ? TCP : UDP;
    const attempts = await connect(lab, client, { proto, dst, port, count: n, sources: sourcesA, sport, parallel: 4 });
    expect(attempts.filter((a) => a.ok)).toHaveLength(n);
    expect(attempts.every((a) => poolOf(a.seen) !== null)).toBe(true);
    sport += n;
  }
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 1 });
  await lab.addClientAddresses(0, sourcesA, `100.64.${NET_A}.0/24`);
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [UDP] });
  shell = new RuleCounterShell({ spawner: gatewaySpawner() });
});

afterAll(async () => {
  shell?.stop();
  await listener?.stop();
  await lab?.destroy();
});

describe("rule counters on real traffic", () => {
  it("N connections through rule A move A's counter by exactly N; B stays 0", async () => {
    await applyOk(lab, spec(1));
    expect(await counts()).toEqual({ "count-a": 0, "count-b": 0, lan: 0 });
    await sendThroughA(9, 42000);
    // 9 TCP connections + 9 UDP exchanges, each a connection of its own
    expect(await counts()).toEqual({ "count-a": 18, "count-b": 0, lan: 0 });
    // later packets of a known connection never pass the classifier: the first UDP flow again counts nothing
    const client = lab.clients[0]?.ns as string;
    const again = await connect(lab, client, {
      proto: "udp",
      dst: lab.servers[0] as string,
      port: UDP,
      count: 1,
      sources: [sourcesA[0] as string],
      sport: 42009,
    });
    expect(again[0]?.ok).toBe(true);
    expect(await counts()).toEqual({ "count-a": 18, "count-b": 0, lan: 0 });
  });

  it("every packet of A's connections, both ways, moves A's traffic counter: what the client sent and received", async () => {
    const client = lab.clients[0]?.ns as string;
    // the client's own count of A's traffic, at its own hooks: the gateway must agree packet for packet, byte for byte
    await lab.must(client, ["nft", "-f", "-"], {
      input: [
        "add table inet probe",
        "add counter inet probe sent",
        "add counter inet probe received",
        "add chain inet probe out { type filter hook output priority 0; policy accept; }",
        "add chain inet probe in { type filter hook input priority 0; policy accept; }",
        `add rule inet probe out ip saddr 100.64.${NET_A}.0/24 counter name sent`,
        `add rule inet probe in ip daddr 100.64.${NET_A}.0/24 counter name received`,
      ].join("\n"),
    });
    const probe = async () => {
      const out = JSON.parse(await lab.must(client, ["nft", "-j", "list", "counters", "table", "inet", "probe"])) as {
        nftables: Array<{ counter?: { packets: number; bytes: number } }>;
      };
      const [sent, received] = out.nftables.flatMap((x) => (x.counter === undefined ? [] : [x.counter]));
      return {
        packets: (sent?.packets ?? 0) + (received?.packets ?? 0),
        bytes: (sent?.bytes ?? 0) + (received?.bytes ?? 0),
      };
    };
    const traffic = async () => {
      const r = await readCounters();
      return { a: r.get("count-a"), b: r.get("count-b") };
    };
    const before = await traffic();
    const seenBefore = await probe();
    await sendThroughA(6, 45000);
    // the last FIN and ACK of each TCP connection are on their way: let them land
    await new Promise((r) => setTimeout(r, 300));
    const after = await traffic();
    const seen = await probe();
    const moved = {
      packets: (after.a?.packets ?? 0) - (before.a?.packets ?? 0),
      bytes: (after.a?.bytes ?? 0) - (before.a?.bytes ?? 0),
    };
    expect(seen.packets - seenBefore.packets).toBeGreaterThan(6 * 2 + 6 * 5);
    expect(moved).toEqual({ packets: seen.packets - seenBefore.packets, bytes: seen.bytes - seenBefore.bytes });
    // B never moved: the datapath made no counters for it
    expect(after.b).toBeUndefined();
    await lab.must(client, ["nft", "delete", "table", "inet", "probe"]);
  });

  it("a reload keeps the counters; the agent's tally reports exactly the connections sent since", async () => {
    const tally = new RuleCounterTally();
    tally.observe(await readCounters(), new Date().toISOString(), loadedRuleCounterKeys(lab).rules);
    await applyOk(lab, spec(2));
    expect((await counts())["count-a"]).toBe(30);
    await sendThroughA(5, 43000);
    tally.observe(await readCounters(), new Date().toISOString(), loadedRuleCounterKeys(lab).rules);
    expect(tally.take(100).map((d) => [d.ruleId, d.connections])).toEqual([["count-a", 10]]);
  });

  it("connections rerouted before routing (a failover) count once, for their rule", async () => {
    const failover: FailoverState = new Map([["a", "b"]]);
    await applyOk(lab, spec(3), failover);
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const before = await counts();
    const trafficBefore = (await readCounters()).get("count-a");
    await sendThroughA(4, 44000);
    const after = await counts();
    expect((after["count-a"] ?? 0) - (before["count-a"] ?? 0)).toBe(8);
    expect(after["count-b"]).toBe(0);
    // the rule slot was written before routing too: the rerouted connections' packets count for A
    const trafficAfter = (await readCounters()).get("count-a");
    expect((trafficAfter?.packets ?? 0) - (trafficBefore?.packets ?? 0)).toBeGreaterThanOrEqual(4 * 2 + 4 * 5);
    await applyOk(lab, spec(4));
  });

  it("a rule that is gone takes its counter with it; a rule that gets its slot starts from zero", async () => {
    const slotOfA = loadedRuleCounterKeys(lab).keys;
    await applyOk(lab, spec(5, false));
    const c = await counts();
    expect(Object.keys(c).sort()).toEqual(["count-a", "lan"]);
    expect(c["count-a"]).toBe(48);
    // count-a's rule is deleted and a new rule takes its slot: the counters held for it go with the load
    const keyOfA = [...slotOfA].find(([key, id]) => id === "count-a" && (key & 1) === 1)?.[0] as number;
    const taker = labSpec(
      lab,
      [
        { ...entry(`100.64.${NET_A}.0/24`, { snat: "pa", algorithm: "sh" }, { ruleId: "taker" }), ruleSeq: 1 },
        entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { ruleId: "lan" }),
      ],
      { revision: 5 },
    );
    await applyOk(lab, taker);
    expect(loadedRuleCounterKeys(lab).keys.get(keyOfA)).toBe("taker");
    expect(await counts()).toEqual({ taker: 0, lan: 0 });
    await sendThroughA(2, 46000);
    expect(await counts()).toEqual({ taker: 4, lan: 0 });
    await applyOk(lab, spec(5, false));
  });

  it("a drop rule counts the connections it drops", async () => {
    const dropping = labSpec(
      lab,
      [
        entry(`100.64.${NET_A}.0/24`, "drop", { ruleId: "drop-udp", protocol: "udp" }),
        entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { ruleId: "lan" }),
      ],
      { revision: 6 },
    );
    await applyOk(lab, dropping);
    const attempts = await connect(lab, lab.clients[0]?.ns as string, {
      proto: "udp",
      dst: lab.servers[0] as string,
      port: UDP,
      count: 5,
      sources: sourcesA,
      sport: 45000,
      timeoutMs: 500,
    });
    expect(attempts.filter((x) => x.ok)).toHaveLength(0);
    expect((await counts())["drop-udp"]).toBe(5);
  });

  it("the first load deletes the named counters an older agent kept per rule", async () => {
    // what a gateway upgraded from an agent before the counter set has: named counters, no set
    const gw = lab.ns.gateway;
    await lab.must(gw, ["nft", "flush", "table", "inet", "gatehouse"]);
    await lab.must(gw, ["nft", "delete", "set", "inet", "gatehouse", "rule_hits"]);
    for (const name of ["rule_count-a", "traffic_count-a", "rule_lan"]) {
      await lab.must(gw, ["nft", "add", "counter", "inet", "gatehouse", name]);
    }
    await applyOk(lab, spec(7));
    const left = await lab.must(gw, ["nft", "list", "counters", "table", "inet", "gatehouse"]);
    expect(left).not.toMatch(/counter (rule|traffic)_/);
    expect(Object.keys(await counts()).sort()).toEqual(["count-a", "count-b", "lan"]);
  });

  it("the first load replaces the static counter set of earlier agents with the dynamic one", async () => {
    // what a gateway upgraded from an agent with one element per rule has: that set, no rule_hits
    const gw = lab.ns.gateway;
    await lab.must(gw, ["nft", "flush", "table", "inet", "gatehouse"]);
    await lab.must(gw, ["nft", "delete", "set", "inet", "gatehouse", "rule_hits"]);
    await lab.must(gw, ["nft", "-f", "-"], {
      input:
        'add set inet gatehouse rule_counts { type mark; counter; }\nadd element inet gatehouse rule_counts { 0x08001001 comment "count-a" }\n',
    });
    await applyOk(lab, spec(8));
    const sets = await lab.must(gw, ["nft", "-t", "list", "sets", "inet"]);
    expect(sets).not.toContain("set rule_counts");
    expect(sets).toContain("set rule_hits");
    await sendThroughA(1, 47000);
    expect(await counts()).toEqual({ "count-a": 2, "count-b": 0, lan: 0 });
  });

  it("the agent deletes the counters of a rule that stopped moving; its next connections count from there", async () => {
    const tally = new RuleCounterTally();
    const { health, stop } = startHealthService(lab, {
      ruleCounters: tally,
      ruleCounterIntervalMs: 100,
      // read every 100 ms however long a read takes (an agent keeps reading under 0.2% of its time)
      ruleCounterReadShare: 1,
      ruleCounterIdleMs: 1_500,
    });
    const hits = async () =>
      (await lab.must(lab.ns.gateway, ["nft", "list", "set", "inet", "gatehouse", "rule_hits"])).match(
        /0x[0-9a-f]+ counter/g,
      ) ?? [];
    const reported = () => tally.take(100).find((d) => d.ruleId === "count-a")?.connections ?? 0;
    try {
      expect((await health.apply(spec(30))).error).toBe("");
      await waitFor(() => tally.latest().length > 0, 3_000);
      await sendThroughA(3, 48000);
      // read and reported: 3 TCP connections and 3 UDP exchanges
      expect(await waitFor(() => reported() === 6, 5_000)).toBe(true);
      expect((await hits()).length).toBeGreaterThan(0);
      // A is quiet: once its counters stood still for the idle time, they are gone from the set
      expect(await waitFor(async () => (await hits()).length === 0, 8_000)).toBe(true);
      // the next connections make them again and are counted, all of them, once
      tally.acknowledge(tally.take(100));
      await sendThroughA(2, 48100);
      expect(await waitFor(() => reported() === 4, 5_000)).toBe(true);
    } finally {
      await stop();
    }
  });

  it("the agent reads no counters while no rule is counted, and reads them from the load that counts one", async () => {
    const inner = gatewaySpawner();
    let reads = 0;
    // a reading is a request to the agent's long-lived nft (or a process of its own, should that fail)
    const spawner: ProcessSpawner = {
      spawn: (args, handlers) => {
        const proc = inner.spawn(args, handlers);
        if (args.join(" ") === "nft list set inet gatehouse rule_hits") reads++;
        if (args.join(" ") !== "nft -i") return proc;
        return {
          ...proc,
          write: (text: string) => {
            if (text.startsWith("list set inet gatehouse rule_hits\n")) reads++;
            return proc.write?.(text) ?? false;
          },
        };
      },
    };
    const tally = new RuleCounterTally();
    const { health, stop } = startHealthService(lab, { spawner, ruleCounters: tally, ruleCounterIntervalMs: 100 });
    try {
      expect((await health.apply(labSpec(lab, [], { revision: 20 }))).error).toBe("");
      await new Promise((r) => setTimeout(r, 1500));
      // one read found no set; then the loop waits for another spec, not for its read interval
      // (stretched to 500 times a read's duration: seconds here)
      expect(reads).toBe(1);
      expect(tally.latest()).toEqual([]);
      expect((await health.apply(spec(21))).error).toBe("");
      // read at once from the load on
      const counted = await waitFor(() => tally.latest().some((r) => r.ruleId === "count-a"), 3_000);
      expect(counted).toBe(true);
      expect(reads).toBeGreaterThan(1);
    } finally {
      await stop();
    }
  });
});

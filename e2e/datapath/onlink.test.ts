import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArpWatch } from "../../agent/health/arp-watch";
import { type Policy, zMonitor } from "../../core/policy/model";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildAgent } from "../../scripts/build-agent";
import { compileLabSpec, requireRoot, runAgentOnce } from "../../testkit/datapath";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, countAtIsp, type Listener, startListener } from "../../testkit/lab/traffic";
import { standaloneHa } from "../../core/policy/ha";

/**
 * On-link pools and non-ISP uplinks with the built agent (`apply --spec`, `cleanup`) in a lab whose
 * ISP A router behaves like an on-link ISP: its link to the gateway is 198.51.100.0/25, it has no
 * route to the pool at all and finds the pool's addresses by ARP on that link, nothing else.
 */

const PORT = 5110;
let lab: Lab;
let listener: Listener;
let work: string;
let agentFile: string;

const LINK_ADDRESS = "198.51.100.2/25";

function policy(addresses: string[], settings: Partial<Policy["settings"]> = {}): Policy {
  const monitor = zMonitor.parse({});
  return {
    settings: {
      unmatched: "drop",
      hashSeed: 0x1234abcd,
      lanInterfaces: [],
      internalInterfaces: [],
      ha: standaloneHa(),
      gateways: [],
      ...settings,
    },
    isps: [
      {
        id: "isp-a",
        index: 1,
        name: "isp-a",
        interface: lab.ispA.gatewayInterface,
        addressing: "static",
        // the ISP router's address on the on-link subnet
        nextHop: "198.51.100.1",
        localAddress: LINK_ADDRESS,
        probeTargets: [],
        monitor,
        failoverMode: "manual",
        failbackMode: "manual",
        flushOnFailback: false,
        backupIspIds: [],
        defaultPoolId: null,
        comment: "",
      },
    ],
    pools: [{ id: "pool-a", name: "a-link", ispId: "isp-a", mode: "on-link", addresses, portRange: null, comment: "" }],
    zones: [],
    rules: [
      {
        id: "r-lan",
        seq: 1,
        priority: null,
        source: { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
        destinations: [],
        protocol: "any",
        egressIspId: null,
        action: { type: "snat", poolId: "pool-a", algorithm: "sh" },
        redirectIspId: null,
        fallbackPoolId: null,
        onFailover: "follow",
        failoverIspId: null,
        enabled: true,
        comment: "",
      },
    ],
  };
}

let revision = 0;
function compile(p: Policy): GatewaySpec {
  revision++;
  return compileLabSpec(p, revision);
}

const agent = (args: string[]) => runAgentOnce(lab, agentFile, args);

async function apply(spec: GatewaySpec): Promise<void> {
  const file = join(work, `r${spec.revision}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const r = await agent(["apply", "--spec", file]);
  expect(r.code, r.stderr).toBe(0);
}

/** The gateway's IPv4 addresses on an interface: "address/prefix" plus " metric N" when set. */
async function addressesOn(dev: string): Promise<string[]> {
  const out = await lab.must(lab.ns.gateway, ["ip", "-4", "-j", "addr", "show", "dev", dev]);
  const links = JSON.parse(out) as Array<{ addr_info: Array<{ local: string; prefixlen: number; metric?: number }> }>;
  return links
    .flatMap((l) => l.addr_info)
    .map((a) => `${a.local}/${a.prefixlen}${a.metric === undefined ? "" : ` metric ${a.metric}`}`)
    .sort();
}

async function arpCounters(): Promise<Map<string, { asked: number; answered: number }>> {
  const out = new Map<string, { asked: number; answered: number }>();
  for (const [set, key] of [
    ["onlink_asked", "asked"],
    ["onlink_answered", "answered"],
  ] as const) {
    const text = await lab.must(lab.ns.gateway, ["nft", "-j", "list", "set", "arp", "gatehouse_arp", set]);
    const doc = JSON.parse(text) as {
      nftables: Array<{ set?: { elem?: Array<{ elem: { val: string; counter: { packets: number } } }> } }>;
    };
    for (const e of doc.nftables.find((x) => x.set)?.set?.elem ?? []) {
      const row = out.get(e.elem.val) ?? { asked: 0, answered: 0 };
      row[key] = e.elem.counter.packets;
      out.set(e.elem.val, row);
    }
  }
  return out;
}

/**
 * Forgets what the ISP router learned: the router learns the pool's MAC from the gateway's own ARP
 * requests too (they carry the SNAT address as sender), so a warm router never has to ask.
 */
async function forgetNeighbours(): Promise<void> {
  await lab.must(lab.ns.ispA, ["ip", "neigh", "flush", "dev", lab.ispA.routerInterface]);
}

beforeAll(async () => {
  requireRoot();
  work = mkdtempSync(join(tmpdir(), "gatehouse-onlink-"));
  agentFile = (await buildAgent(join(work, "gatehouse-agent.mjs"))).outfile;
  lab = await buildLab({ clients: 2, prefix: "ghol" });
  // ISP A becomes an on-link ISP: the pool's subnet is on its link, and it routes nothing to the gateway
  await lab.must(lab.ns.ispA, ["ip", "route", "del", lab.ispA.poolRange]);
  await lab.must(lab.ns.ispA, ["ip", "addr", "add", "198.51.100.1/25", "dev", lab.ispA.routerInterface]);
  await lab.must(lab.ns.gateway, ["ip", "addr", "add", LINK_ADDRESS, "dev", lab.ispA.gatewayInterface]);
  // an address of the operator's own on the uplink, a /32 like the agent's: it must survive everything
  await lab.must(lab.ns.gateway, ["ip", "addr", "add", "198.51.100.99/32", "dev", lab.ispA.gatewayInterface]);
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [PORT], udp: [PORT] });
}, 120_000);

afterAll(async () => {
  await lab?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("on-link pools", () => {
  it("answers the ISP router's ARP for the pool's addresses: connections get their replies", async () => {
    await apply(compile(policy(["198.51.100.10-198.51.100.11"])));
    await forgetNeighbours();
    expect(await addressesOn(lab.ispA.gatewayInterface)).toEqual([
      "100.65.1.1/24",
      "198.51.100.10/32 metric 7100",
      "198.51.100.11/32 metric 7100",
      "198.51.100.2/25",
      "198.51.100.99/32",
    ]);
    for (const c of lab.clients) {
      for (const proto of ["tcp", "udp"] as const) {
        await forgetNeighbours();
        const attempts = await connect(lab, c.ns, { proto, dst: lab.servers[0] as string, port: PORT, count: 4 });
        expect(
          attempts.map((a) => a.seen ?? a.error ?? "no answer"),
          `${c.address} ${proto}`,
        ).toEqual(attempts.map(() => expect.stringMatching(/^198\.51\.100\.1[01]$/)));
      }
    }
    // the server only ever saw pool addresses
    expect(listener.records().map((r) => r.peer.split(":")[0])).toEqual(
      listener.records().map(() => expect.stringMatching(/^198\.51\.100\.1[01]$/)),
    );
    // the ARP watch saw the router ask and the gateway answer
    const counters = await arpCounters();
    const used = [...counters.values()].filter((c) => c.asked > 0);
    expect(used.length).toBeGreaterThan(0);
    for (const c of used) expect(c.answered).toBeGreaterThan(0);
  });

  it("takes an address off the uplink when the pool shrinks, and never the operator's", async () => {
    await apply(compile(policy(["198.51.100.10"])));
    expect(await addressesOn(lab.ispA.gatewayInterface)).toEqual([
      "100.65.1.1/24",
      "198.51.100.10/32 metric 7100",
      "198.51.100.2/25",
      "198.51.100.99/32",
    ]);
    const c = lab.clients[0];
    if (!c) throw new Error("lab without clients");
    const attempts = await connect(lab, c.ns, { proto: "tcp", dst: lab.servers[1] as string, port: PORT, count: 3 });
    expect(attempts.map((a) => a.seen)).toEqual(["198.51.100.10", "198.51.100.10", "198.51.100.10"]);
  });

  it("counts the router's ARP requests for an address nobody answers", async () => {
    // someone removed the agent's address behind its back: replies to 198.51.100.10 go unanswered
    await lab.must(lab.ns.gateway, ["ip", "addr", "del", "198.51.100.10/32", "dev", lab.ispA.gatewayInterface]);
    await forgetNeighbours();
    const spec = compile(policy(["198.51.100.10"]));
    const watch = new ArpWatch();
    await watch.refresh(lab.runner(lab.ns.gateway), spec);
    const before = (await arpCounters()).get("198.51.100.10") ?? { asked: 0, answered: 0 };
    const c = lab.clients[0];
    if (!c) throw new Error("lab without clients");
    // the router sends 3 requests a second apart per resolution: keep replies coming for up to 8 s
    const asked = async () => (await arpCounters()).get("198.51.100.10") ?? { asked: 0, answered: 0 };
    let after = before;
    const started = Date.now();
    for (let i = 0; i < 16 && Date.now() - started < 8_000; i++) {
      const attempts = await connect(lab, c.ns, {
        proto: "udp",
        dst: lab.servers[1] as string,
        port: PORT,
        count: 1,
        timeoutMs: 500,
      });
      expect(attempts[0]?.seen).toBeUndefined();
      after = await asked();
      if (after.asked - before.asked >= 3) break;
    }
    expect(after.asked - before.asked).toBeGreaterThanOrEqual(3);
    expect(after.answered).toBe(before.answered);
    // what the agent reports in the ISP's health, read from the same counters
    await watch.refresh(lab.runner(lab.ns.gateway), spec);
    expect(watch.unanswered("isp-a")).toEqual(["198.51.100.10"]);
    // the next apply puts it back
    await apply(spec);
    expect(await addressesOn(lab.ispA.gatewayInterface)).toContain("198.51.100.10/32 metric 7100");
  });
});

describe("non-ISP uplinks", () => {
  it("drops and counts LAN traffic routed out of an interface that is no ISP's, instead of leaking it un-NATed", async () => {
    const c = lab.clients[0];
    if (!c) throw new Error("lab without clients");
    // ISP B's link is not one of the cluster's ISPs here: a second uplink the policy does not know
    await lab.must(lab.ns.gateway, ["ip", "route", "replace", "203.0.113.30/32", "via", lab.ispB.nextHop]);
    const leaks = await countAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface);
    try {
      // without named LAN interfaces (the behaviour before): the traffic leaves with its private source
      await apply(compile(policy(["198.51.100.10"])));
      await connect(lab, c.ns, { proto: "udp", dst: "203.0.113.30", port: PORT, count: 3, timeoutMs: 500 });
      expect((await leaks.read()).lan).toBeGreaterThan(0);
      await leaks.reset();

      await apply(compile(policy(["198.51.100.10"], { lanInterfaces: lab.clients.map((x) => x.gatewayInterface) })));
      await connect(lab, c.ns, { proto: "udp", dst: "203.0.113.30", port: PORT, count: 3, timeoutMs: 500 });
      await connect(lab, c.ns, { proto: "tcp", dst: "203.0.113.30", port: PORT, count: 2, timeoutMs: 500 });
      expect(await leaks.read()).toEqual({ lan: 0, pool: 0 });
      const chain = await lab.must(lab.ns.gateway, ["nft", "list", "chain", "inet", "gatehouse_guard", "forward"]);
      const dropped = /counter packets (\d+) bytes \d+ drop/.exec(chain);
      expect(Number(dropped?.[1] ?? 0)).toBeGreaterThanOrEqual(3);
      // traffic through the ISP still flows
      const ok = await connect(lab, c.ns, { proto: "tcp", dst: lab.servers[0] as string, port: PORT, count: 1 });
      expect(ok[0]?.seen).toBe("198.51.100.10");

      // an interface listed as internal may carry LAN traffic as it is
      await apply(
        compile(
          policy(["198.51.100.10"], {
            lanInterfaces: lab.clients.map((x) => x.gatewayInterface),
            internalInterfaces: [lab.ispB.gatewayInterface],
          }),
        ),
      );
      await connect(lab, c.ns, { proto: "udp", dst: "203.0.113.30", port: PORT, count: 2, timeoutMs: 500 });
      expect((await leaks.read()).lan).toBeGreaterThan(0);
    } finally {
      await lab.exec(lab.ns.gateway, ["ip", "route", "del", "203.0.113.30/32"]);
    }
  });
});

describe("gatehouse-agent cleanup", () => {
  it("removes the agent's tables, rules, routes and addresses, and nothing of the operator's", async () => {
    const r = await agent(["cleanup"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await addressesOn(lab.ispA.gatewayInterface)).toEqual([
      "100.65.1.1/24",
      "198.51.100.2/25",
      "198.51.100.99/32",
    ]);
    const tables = await lab.must(lab.ns.gateway, ["nft", "list", "tables"]);
    expect(tables).not.toMatch(/gatehouse/);
    const rules = await lab.must(lab.ns.gateway, ["ip", "-4", "rule", "show"]);
    expect(rules).not.toMatch(/\b71\d\d:/);
    // a second run finds nothing to do and still succeeds
    expect((await agent(["cleanup"])).code).toBe(0);
  });
});

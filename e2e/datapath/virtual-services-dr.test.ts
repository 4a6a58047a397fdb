import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewaySpec } from "../../core/spec/schema";
import type { SpecVirtualService } from "../../core/spec/virtual-services";
import { applyOk, labSpec, requireRoot } from "../../testkit/datapath";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { type Listener, startListener } from "../../testkit/lab/traffic";
import { VirtualServiceTraffic } from "../../agent/vs/traffic-reader";
import { servedBy, until } from "../../testkit/lab/vs-traffic";
import { virtualService } from "../../testkit/spec-fixtures";

/**
 * Direct routing on real traffic. The lab's internet server is the client; ISP A routes
 * 198.51.100.0/25, the virtual address among it, to the gateway. LAN clients 2 and 3 are the real
 * servers: each holds the virtual address on its loopback (arp_ignore=1, arp_announce=2), listens
 * on it and on its own address (for the health check), and has its own link to ISP A's router,
 * its route back to the client: replies never cross the gateway.
 */

const VIP = "198.51.100.90";
const PORT = 80;
const RS1 = "100.64.2.2";
const RS2 = "100.64.3.2";

let lab: Lab;
let rs1: Listener;
let rs2: Listener;
let revision = 1;

function spec(services: SpecVirtualService[]): GatewaySpec {
  return { ...labSpec(lab, [], { revision: revision++ }), virtualServices: services };
}

const web = (over: Partial<SpecVirtualService> = {}) =>
  virtualService("web", VIP, PORT, [{ address: RS1 }, { address: RS2 }], { mode: "dr", ...over });

const listen = (client: number, rip: string) =>
  startListener(lab, lab.clients[client]?.ns as string, { addresses: [VIP, rip], tcp: [PORT], udp: [PORT] });

const named = (): Array<[string, Listener]> => [
  ["rs1", rs1],
  ["rs2", rs2],
];

/** Packets the gateway received from and to the virtual address, counted before anything else runs. */
async function gatewayCounts(): Promise<{ toVip: number; fromVip: number }> {
  const out = await lab.must(lab.ns.gateway, ["nft", "-j", "list", "table", "ip", "dr_watch"]);
  const doc = JSON.parse(out) as {
    nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }>;
  };
  const count = (name: string) => {
    const rule = doc.nftables.find((x) => x.rule?.comment === name)?.rule;
    return rule?.expr.find((e) => e.counter !== undefined)?.counter?.packets ?? -1;
  };
  return { toVip: count("to"), fromVip: count("from") };
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3, prefix: "ghdr" });
  for (const [k, client] of [
    [1, lab.clients[1]],
    [2, lab.clients[2]],
  ] as const) {
    const ns = client?.ns as string;
    await lab.ip(lab.ns.ispA, [
      `link add rs${k} type veth peer name up0 netns ${ns}`,
      `addr add 100.67.${k}.1/24 dev rs${k}`,
      `link set rs${k} up`,
    ]);
    await lab.ip(ns, [
      `addr add 100.67.${k}.2/24 dev up0`,
      "link set up0 up",
      `addr add ${VIP}/32 dev lo`,
      `route add 203.0.113.0/24 via 100.67.${k}.1 dev up0`,
    ]);
    await lab.must(ns, [
      "sysctl",
      "-q",
      "-w",
      "net.ipv4.conf.all.arp_ignore=1",
      "net.ipv4.conf.all.arp_announce=2",
      "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.eth0.rp_filter=0",
    ]);
  }
  rs1 = await listen(1, RS1);
  rs2 = await listen(2, RS2);
  await lab.must(lab.ns.gateway, ["nft", "-f", "-"], {
    input: [
      "table ip dr_watch {",
      "  chain pre {",
      "    type filter hook prerouting priority -400; policy accept;",
      `    ip daddr ${VIP} counter comment "to"`,
      `    ip saddr ${VIP} counter comment "from"`,
      "  }",
      "}",
      "",
    ].join("\n"),
  });
});

afterAll(async () => {
  await lab?.destroy();
});

describe("virtual services in direct routing (DR) mode", () => {
  it("rr alternates, the servers see the client's own address, and no reply crosses the gateway", async () => {
    await applyOk(lab, spec([web()]));
    const before = await gatewayCounts();
    const src = lab.servers[0] as string;
    const { attempts, served } = await servedBy(lab, lab.ns.server, named(), {
      proto: "tcp",
      dst: VIP,
      port: PORT,
      count: 20,
      parallel: 1,
      sources: [src],
    });
    expect(attempts.every((a) => a.ok)).toBe(true);
    expect(served.every((s) => s === "rs1" || s === "rs2")).toBe(true);
    for (let i = 1; i < served.length; i++) expect(served[i]).not.toBe(served[i - 1]);
    expect(new Set(attempts.map((a) => a.seen))).toEqual(new Set([src]));
    const after = await gatewayCounts();
    // every TCP connection is several packets each way: all of the client's crossed the gateway,
    // none of the servers'
    expect(after.toVip - before.toVip).toBeGreaterThanOrEqual(20 * 4);
    expect(after.fromVip - before.fromVip).toBe(0);
  });

  it("every packet of a flow follows its first choice, also across a reload", async () => {
    const s = spec([web({ protocol: "udp" })]);
    await applyOk(lab, s);
    const src = lab.servers[1] as string;
    const flow = async (sport: number) =>
      (
        await servedBy(lab, lab.ns.server, named(), {
          proto: "udp",
          dst: VIP,
          port: PORT,
          count: 1,
          sport,
          sources: [src],
        })
      ).served[0];
    const first = [await flow(47000), await flow(47001)];
    expect(new Set(first)).toEqual(new Set(["rs1", "rs2"]));
    // the same flows again: rr would alternate, the flow table keeps each where it went
    for (let i = 0; i < 3; i++) expect([await flow(47000), await flow(47001)]).toEqual(first);
    await applyOk(lab, { ...s, revision: revision++ });
    expect([await flow(47001), await flow(47000)]).toEqual([first[1], first[0]]);
  });

  it("a new connection from the port of a closed one is scheduled afresh: a draining server does not get it", async () => {
    await applyOk(lab, spec([web()]));
    const src = lab.servers[1] as string;
    // the server closes first (it ends after its reply), so the client may use its port again at once
    const from = async (sport: number) => {
      const r = await servedBy(lab, lab.ns.server, named(), {
        proto: "tcp",
        dst: VIP,
        port: PORT,
        count: 1,
        sport,
        sources: [src],
      });
      expect(r.attempts[0]?.ok).toBe(true);
      return r.served[0];
    };
    const ports = [47100, 47101];
    const first = [await from(ports[0] as number), await from(ports[1] as number)];
    expect(new Set(first)).toEqual(new Set(["rs1", "rs2"]));
    const portOfRs2 = ports[first.indexOf("rs2")] as number;
    // rs2 drains: its closed flow is remembered for 120 s, but a SYN from that port is a new flow
    const drained = virtualService("web", VIP, PORT, [{ address: RS1 }, { address: RS2, state: "draining" }], {
      mode: "dr",
    });
    await applyOk(lab, spec([drained]));
    expect(await from(portOfRs2)).toBe("rs1");
    expect(await from(portOfRs2)).toBe("rs1");
  });

  it("persistence: a client's new flows keep its server while rr alternates for the others", async () => {
    await applyOk(lab, spec([web({ persistenceSeconds: 5 })]));
    const opts = { proto: "tcp" as const, dst: VIP, port: PORT, count: 6, parallel: 1 };
    const a = await servedBy(lab, lab.ns.server, named(), { ...opts, sources: [lab.servers[1] as string] });
    expect(a.attempts.every((x) => x.ok)).toBe(true);
    expect(new Set(a.served).size).toBe(1);
    // another client moves rr on; without persistence the next two connections would go to
    // both servers, with it they go where the client's first one went
    const b = await servedBy(lab, lab.ns.server, named(), { ...opts, count: 1, sources: [lab.servers[2] as string] });
    const again = await servedBy(lab, lab.ns.server, named(), {
      ...opts,
      count: 2,
      sources: [lab.servers[1] as string],
    });
    expect(b.attempts.every((x) => x.ok)).toBe(true);
    expect(again.served).toEqual([a.served[0], a.served[0]]);
  });

  it("statistics: new flows and the clients' packets per real server, closed flows inactive, none of the replies", async () => {
    const s = spec([web()]);
    await applyOk(lab, s);
    const reader = new VirtualServiceTraffic(lab.runner(lab.ns.gateway));
    const before = await reader.sample(s);
    const opts = {
      proto: "tcp" as const,
      dst: VIP,
      port: PORT,
      count: 20,
      parallel: 1,
      sources: [lab.servers[0] as string],
    };
    expect((await servedBy(lab, lab.ns.server, named(), opts)).attempts.every((a) => a.ok)).toBe(true);
    const after = await reader.sample(s);
    for (const rip of [RS1, RS2]) {
      const [b, a] = [before.get(`web|${rip}|${PORT}`), after.get(`web|${rip}|${PORT}`)];
      if (a === undefined || b === undefined) throw new Error(`no traffic for ${rip}`);
      expect(a.connections - b.connections).toBe(10);
      expect(a.packetsIn - b.packetsIn).toBeGreaterThanOrEqual(10 * 4);
      expect(a.bytesIn - b.bytesIn).toBeGreaterThan((a.packetsIn - b.packetsIn) * 40);
      expect(a.packetsOut).toBe(0);
      // the client closed each connection (FIN): the flows are closing, no longer active
      expect(a.inactive - b.inactive).toBe(10);
      expect(a.active - b.active).toBe(0);
      expect(a.connectionsPerSecond).toBeGreaterThan(0);
    }
  });

  it("a killed real server gets no new connection once interval x fall has passed", async () => {
    const check = {
      kind: "tcp" as const,
      intervalMs: 200,
      timeoutMs: 100,
      rise: 2,
      fall: 3,
      path: "/",
      expectStatus: 200,
      bodyText: "",
    };
    const s = spec([web({ healthCheck: check })]);
    const file = join(tmpdir(), `vs-dr-spec-${lab.runId}.json`);
    writeFileSync(file, JSON.stringify(s));
    let stopped = false;
    try {
      const checker = lab.spawn(lab.ns.gateway, [process.execPath, "--import", "tsx", CHECKER, file, "30"]);
      await until(() => checker.stdout().includes('"event":"ready"'), "the checker", 15_000);
      const opts = { proto: "tcp" as const, dst: VIP, port: PORT, count: 10, sources: [lab.servers[2] as string] };
      expect(new Set((await servedBy(lab, lab.ns.server, named(), opts)).served)).toEqual(new Set(["rs1", "rs2"]));

      await rs2.stop();
      stopped = true;
      const killedAt = Date.now();
      const updates = () =>
        checker
          .stdout()
          .split("\n")
          .filter((l) => l.includes('"event":"update"'));
      await until(() => updates().length >= 1, "the server to be taken out", 5000);
      const out = JSON.parse(updates()[0] as string) as { down: string[]; error: string | null; at: number };
      expect(out.error).toBeNull();
      expect(out.down).toEqual([`web|${RS2}|${PORT}`]);
      expect(out.at - killedAt).toBeLessThan(check.intervalMs * (check.fall + 1) + 500);
      const after = await servedBy(lab, lab.ns.server, named(), { ...opts, count: 20 });
      expect(after.attempts.every((a) => a.ok)).toBe(true);
      expect(after.served).toEqual(Array(20).fill("rs1"));
      checker.kill("SIGTERM");
    } finally {
      rmSync(file, { force: true });
      if (stopped) rs2 = await listen(2, RS2);
    }
  });
});

const CHECKER = fileURLToPath(new URL("../../testkit/lab/tools/vs-checker.ts", import.meta.url));

import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewaySpec } from "../../core/spec/schema";
import type { SpecVirtualService } from "../../core/spec/virtual-services";
import { applyOk, labSpec, requireRoot } from "../../testkit/datapath";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { type Attempt, connect, type Listener, startListener } from "../../testkit/lab/traffic";
import { VirtualServiceTraffic } from "../../agent/vs/traffic-reader";
import { servedBy, until } from "../../testkit/lab/vs-traffic";
import { virtualService } from "../../testkit/spec-fixtures";
import { ipv4ToBigInt } from "../../core/address";
import { scheduleBuckets, usableServers } from "../../core/render/vs-schedule";
import { jhash, reciprocalScale, registerBytes } from "../../core/spec/jhash";

/**
 * Inbound virtual services on real traffic. The lab's internet server (203.0.113.10, .20, .30)
 * is the client: it reaches the virtual address 198.51.100.80 through ISP A, which routes
 * 198.51.100.0/25 to the gateway. LAN clients 2 and 3 are the real servers (their default route is
 * the gateway, as NAT mode needs); LAN client 1 is the sorry server.
 */

const VIP = "198.51.100.80";
const RS_PORT = 8080;

let lab: Lab;
let rs1: Listener;
let rs2: Listener;
let sorry: Listener;
let revision = 1;
const RS1 = "100.64.2.2";
const RS2 = "100.64.3.2";
const SORRY = "100.64.1.2";

function spec(services: SpecVirtualService[]): GatewaySpec {
  return { ...labSpec(lab, [], { revision: revision++ }), virtualServices: services };
}

const web = (over: Partial<SpecVirtualService> = {}, weights: [number, number] = [1, 1]) =>
  virtualService(
    "web",
    VIP,
    80,
    [
      { address: RS1, port: RS_PORT, weight: weights[0] },
      { address: RS2, port: RS_PORT, weight: weights[1] },
    ],
    over,
  );

const SH_CLIENTS = Array.from({ length: 10 }, (_, i) => `203.0.113.${40 + i}`);
/** clients that connect once each (persistence test) */
const PROBE_CLIENTS = Array.from({ length: 20 }, (_, i) => `203.0.113.${60 + i}`);

type Served = "rs1" | "rs2" | "sorry";
const listeners = (): Array<[Served, Listener]> => [
  ["rs1", rs1],
  ["rs2", rs2],
  ["sorry", sorry],
];

/** Connections from the client to a virtual service, and which real server took each. */
async function through(
  opts: Partial<Parameters<typeof connect>[2]> = {},
): Promise<{ attempts: Attempt[]; served: string[] }> {
  return servedBy(lab, client(), listeners(), { dst: VIP, port: 80, count: 1, ...opts, proto: opts.proto ?? "tcp" });
}

async function fresh(): Promise<void> {
  await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
}

const client = () => lab.ns.server;

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3, prefix: "ghvs" });
  rs1 = await startListener(lab, lab.clients[1]?.ns as string, { addresses: [RS1], tcp: [RS_PORT], udp: [RS_PORT] });
  rs2 = await startListener(lab, lab.clients[2]?.ns as string, { addresses: [RS2], tcp: [RS_PORT], udp: [RS_PORT] });
  await lab.ip(
    lab.ns.server,
    [...SH_CLIENTS, ...PROBE_CLIENTS].map((a) => `addr add ${a}/32 dev lo`),
  );
  sorry = await startListener(lab, lab.clients[0]?.ns as string, { addresses: [SORRY], tcp: [RS_PORT] });
});

afterAll(async () => {
  await lab?.destroy();
});

describe("virtual services in NAT mode", () => {
  it("rr alternates exactly between the real servers, VIP:80 mapped to RIP:8080", async () => {
    await applyOk(lab, spec([web()]));
    await fresh();
    const src = lab.servers[0] as string;
    const { attempts, served } = await through({ count: 20, parallel: 1, sources: [src] });
    expect(served.every((s) => s === "rs1" || s === "rs2")).toBe(true);
    for (let i = 1; i < served.length; i++) expect(served[i]).not.toBe(served[i - 1]);
    // NAT mode: the real server sees the real client
    expect(new Set(attempts.map((a) => a.seen))).toEqual(new Set([src]));
  });

  it("wrr 1:2 holds within 5% over 3,000 connections", async () => {
    await applyOk(lab, spec([web({ scheduler: "wrr" }, [1, 2])]));
    await fresh();
    const { served } = await through({ count: 3000, parallel: 32, timeoutMs: 3000 });
    const n1 = served.filter((s) => s === "rs1").length;
    const n2 = served.filter((s) => s === "rs2").length;
    expect(n1 + n2).toBe(3000);
    expect(Math.abs(n2 / 3000 - 2 / 3)).toBeLessThan(0.05);
  });

  it("sh keeps each client on the server the seeded hash predicts", async () => {
    const s = spec([web({ scheduler: "sh" })]);
    await applyOk(lab, s);
    await fresh();
    const service = s.virtualServices[0] as SpecVirtualService;
    const buckets = scheduleBuckets(service, usableServers(service, new Set()));
    const predict = (src: string) => {
      const value = Number(ipv4ToBigInt(src));
      const bucket = reciprocalScale(jhash(registerBytes([{ value, width: 4 }]), s.settings.hashSeed), buckets.length);
      return buckets[bucket]?.address === RS1 ? "rs1" : "rs2";
    };
    const served = new Set<string>();
    for (const src of SH_CLIENTS) {
      const { served: got } = await through({ count: 4, sources: [src] });
      expect(got).toEqual(Array(4).fill(predict(src)));
      served.add(predict(src));
    }
    // the clients really spread over both servers
    expect(served).toEqual(new Set(["rs1", "rs2"]));
  });

  it("a draining server (or weight 0) gets no new connection while an established one finishes", async () => {
    const udp = (weights: [number, number], draining = false) =>
      virtualService(
        "dns",
        VIP,
        53,
        [
          { address: RS1, port: RS_PORT, weight: weights[0] },
          { address: RS2, port: RS_PORT, weight: weights[1], state: draining ? "draining" : "enabled" },
        ],
        { protocol: "udp" },
      );
    await applyOk(lab, spec([web(), udp([1, 1])]));
    await fresh();
    // two UDP flows with fixed source ports: rr gives one to each server
    const flow = async (sport: number) =>
      (await through({ proto: "udp", port: 53, sport, sources: [lab.servers[0] as string] })).served[0];
    const first = [await flow(45000), await flow(45001)];
    expect(new Set(first)).toEqual(new Set(["rs1", "rs2"]));
    const onRs2 = first[0] === "rs2" ? 45000 : 45001;
    const tcpOnRs2 = () => rs2.records().filter((r) => r.proto === "tcp").length;
    const tcpBefore = tcpOnRs2();
    await applyOk(lab, spec([web({}, [1, 0]), udp([1, 1], true)]));
    // the established flow still reaches the draining server
    expect(await flow(onRs2)).toBe("rs2");
    // new connections do not, TCP (weight 0) nor UDP (draining)
    expect((await through({ count: 20 })).served).toEqual(Array(20).fill("rs1"));
    expect((await through({ proto: "udp", port: 53, count: 4, sport: 46000 })).served).toEqual(Array(4).fill("rs1"));
    expect(tcpOnRs2()).toBe(tcpBefore);
  });

  it("persistence keeps a client on its server for T seconds after its last connection, then lets go", async () => {
    // small, with room for a connection's own time on a busy machine
    const T = 3000;
    await applyOk(lab, spec([web({ persistenceSeconds: T / 1000 })]));
    await fresh();
    const a = lab.servers[1] as string;
    const once = async (src: string) => (await through({ sources: [src] })).served[0];
    const other = (s: string | undefined) => (s === "rs1" ? "rs2" : "rs1");
    const probes = [...PROBE_CLIENTS];
    /**
     * Makes rr's next choice the server other than `server`: new clients (never seen, so not
     * persistent) connect until one lands on `server`; rr alternates, so at most two are needed.
     */
    const rrNext = async (server: string | undefined) => {
      for (let i = 0; i < 2; i++) {
        const probe = probes.shift();
        if (probe === undefined) throw new Error("out of probe clients");
        if ((await once(probe)) === server) return;
      }
      throw new Error("rr did not alternate");
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const mine = await once(a);
    let last = Date.now();
    // gaps shorter than T, adding up to more than T: the client stays, though rr would move it
    const start = last;
    for (const gap of [1000, 1000, 1500]) {
      await rrNext(mine);
      await sleep(last + gap - Date.now());
      expect(await once(a)).toBe(mine);
      // at most this long since its previous connection
      expect(Date.now() - last).toBeLessThan(T);
      last = Date.now();
    }
    expect(last - start).toBeGreaterThan(T);
    // idle longer than T: the client is scheduled again, and rr sends it to the other server
    await rrNext(mine);
    await sleep(last + T + 500 - Date.now());
    expect(await once(a)).toBe(other(mine));
  });

  it("with every real server out, the sorry server answers; without one, the connection is refused", async () => {
    await applyOk(lab, spec([web({ sorryServer: { address: SORRY, port: RS_PORT } }, [0, 0])]));
    await fresh();
    expect((await through({ count: 4 })).served).toEqual(["sorry", "sorry", "sorry", "sorry"]);
    await applyOk(lab, spec([web({}, [0, 0])]));
    await fresh();
    const refused = await connect(lab, client(), { proto: "tcp", dst: VIP, port: 80, count: 2, timeoutMs: 300 });
    expect(refused.every((a) => !a.ok)).toBe(true);
  });

  it("FULLNAT: the real server sees the gateway's address instead of the client's", async () => {
    await applyOk(lab, spec([web({ fullNat: true })]));
    await fresh();
    const attempts = await connect(lab, client(), { proto: "tcp", dst: VIP, port: 80, count: 4 });
    expect(attempts.every((a) => a.ok)).toBe(true);
    expect(new Set(attempts.map((a) => a.seen))).toEqual(new Set(["100.64.2.1", "100.64.3.1"]));
  });

  it("counts new connections and packets per real server and per service", async () => {
    await applyOk(lab, spec([web()]));
    await fresh();
    await connect(lab, client(), { proto: "tcp", dst: VIP, port: 80, count: 10 });
    const out = await lab.must(lab.ns.gateway, ["nft", "-j", "list", "set", "inet", "gatehouse", "vs_rs_new"]);
    const doc = JSON.parse(out) as {
      nftables: Array<{
        set?: { elem?: Array<{ elem: { val: { concat: unknown[] }; counter: { packets: number } } }> };
      }>;
    };
    const elems = doc.nftables.find((x) => x.set !== undefined)?.set?.elem ?? [];
    const packets = elems.map((e) => e.elem.counter.packets);
    expect(packets).toEqual([5, 5]);
  });
});

describe("statistics", () => {
  it("per real server: new connections, packets and bytes both ways, conntrack's active and inactive, rates", async () => {
    const s = spec([web()]);
    await applyOk(lab, s);
    await fresh();
    const reader = new VirtualServiceTraffic(lab.runner(lab.ns.gateway));
    const before = await reader.sample(s);
    const started = Date.now();
    const attempts = await connect(lab, client(), { proto: "tcp", dst: VIP, port: 80, count: 10, parallel: 1 });
    expect(attempts.every((a) => a.ok)).toBe(true);
    const after = await reader.sample(s);
    const seconds = (Date.now() - started) / 1000;
    for (const rip of [RS1, RS2]) {
      const key = `web|${rip}|${RS_PORT}`;
      const [b, a] = [before.get(key), after.get(key)];
      if (a === undefined || b === undefined) throw new Error(`no traffic for ${key}`);
      expect(a.connections - b.connections).toBe(5);
      // a TCP connection with an answer is at least 3 packets each way (SYN or SYN/ACK, data, FIN or RST)
      expect(a.packetsIn - b.packetsIn).toBeGreaterThanOrEqual(5 * 3);
      expect(a.packetsOut - b.packetsOut).toBeGreaterThanOrEqual(5 * 3);
      expect(a.bytesIn).toBeGreaterThan(a.packetsIn * 40);
      expect(a.bytesOut).toBeGreaterThan(a.packetsOut * 40);
      // closed by the client: conntrack keeps them in TIME_WAIT, not established
      expect(a.active + a.inactive).toBe(5);
      expect(a.inactive).toBe(5);
      expect(a.connectionsPerSecond).toBeGreaterThan(5 / seconds / 2);
      expect(a.packetsInPerSecond).toBeGreaterThan(0);
    }
  });
});

const CHECKER = fileURLToPath(new URL("../../testkit/lab/tools/vs-checker.ts", import.meta.url));

describe("health checks", () => {
  it("a killed real server is taken out within interval x fall, no request fails once it is out, and it comes back after rise", async () => {
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
    const file = join(tmpdir(), `vs-spec-${lab.runId}.json`);
    writeFileSync(file, JSON.stringify(s));
    try {
      const checker = lab.spawn(lab.ns.gateway, [process.execPath, "--import", "tsx", CHECKER, file, "30"]);
      await until(() => checker.stdout().includes('"event":"ready"'), "the checker", 15_000);
      await fresh();
      expect(new Set((await through({ count: 10 })).served)).toEqual(new Set(["rs1", "rs2"]));

      await rs2.stop();
      const killedAt = Date.now();
      const updates = () =>
        checker
          .stdout()
          .split("\n")
          .filter((l) => l.includes('"event":"update"'));
      await until(() => updates().length >= 1, "the server to be taken out", 5000);
      const out = JSON.parse(updates()[0] as string) as { down: string[]; error: string | null; at: number };
      expect(out.error).toBeNull();
      expect(out.down).toEqual([`web|${RS2}|${RS_PORT}`]);
      // the fall-th failed check: one interval may pass before the first check sees the kill
      expect(out.at - killedAt).toBeLessThan(check.intervalMs * (check.fall + 1) + 500);
      const after = await through({ count: 20 });
      expect(after.attempts.every((a) => a.ok)).toBe(true);
      expect(after.served).toEqual(Array(20).fill("rs1"));

      rs2 = await startListener(lab, lab.clients[2]?.ns as string, {
        addresses: [RS2],
        tcp: [RS_PORT],
        udp: [RS_PORT],
      });
      await until(() => updates().length >= 2, "the server to come back", 5000);
      expect((JSON.parse(updates()[1] as string) as { down: string[] }).down).toEqual([]);
      expect(new Set((await through({ count: 10 })).served)).toEqual(new Set(["rs1", "rs2"]));
      checker.kill("SIGTERM");
    } finally {
      rmSync(file, { force: true });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { type Attempt, connect, type Listener, observeIcmp, ping, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, POOLS, packet, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * SNAT on real traffic: every protocol from several clients, and each algorithm's choice of pool
 * address as the server sees it, against what pickAddress (via decide) predicts.
 */

const TCP = 5000;
const UDP = 5001;
// one /24 per algorithm, given to client 1 as extra source addresses
const NETS = { sh: 101, sdh: 102, sdph: 103, random: 104, rr: 105 } as const;
const addressesOf = (net: number, n: number) => Array.from({ length: n }, (_, i) => `100.64.${net}.${i + 1}`);

let lab: Lab;
let listener: Listener;

function algorithmSpec(revision: number, seed = 0x5eed): GatewaySpec {
  return labSpec(
    lab,
    [
      entry(`100.64.${NETS.sh}.0/24`, { snat: "pa", algorithm: "sh" }),
      entry(`100.64.${NETS.sdh}.0/24`, { snat: "pa", algorithm: "sdh" }),
      entry(`100.64.${NETS.sdph}.0/24`, { snat: "pa", algorithm: "sdph" }),
      entry(`100.64.${NETS.random}.0/24`, { snat: "pa", algorithm: "random" }),
      entry(`100.64.${NETS.rr}.0/24`, { snat: "pa", algorithm: "rr" }),
      // every client's own LAN address
      entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }),
      // changes with the revision, so a reload really replaces the ruleset
      entry(`100.64.${200 + revision}.0/24`, "drop"),
    ],
    { revision, hashSeed: seed },
  );
}

function predicted(spec: GatewaySpec, a: Attempt, proto: "tcp" | "udp", dst: string, port: number): string | null {
  const v = decide(spec, new Map(), packet(a.src ?? "", dst, proto, "a", a.sport ?? undefined, port)).verdict;
  if (v.kind !== "snat") throw new Error(`expected a SNAT verdict, got ${v.kind}`);
  return v.address;
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3 });
  for (const net of Object.values(NETS)) await lab.addClientAddresses(0, addressesOf(net, 12), `100.64.${net}.0/24`);
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP], udp: [UDP] });
});

afterAll(async () => {
  await lab?.destroy();
});

describe("SNAT on real traffic", () => {
  it("NATs TCP, UDP and ICMP from every client to the address decide() predicts", async () => {
    const spec = algorithmSpec(1);
    await applyOk(lab, spec);
    const icmp = await observeIcmp(lab, lab.ns.server);
    for (const c of lab.clients) {
      const expected = decide(spec, new Map(), packet(c.address, lab.servers[0] as string, "tcp", "a")).verdict;
      expect(expected.kind).toBe("snat");
      const address = expected.kind === "snat" ? expected.address : null;
      for (const proto of ["tcp", "udp"] as const) {
        const port = proto === "tcp" ? TCP : UDP;
        const attempts = await connect(lab, c.ns, { proto, dst: lab.servers[0] as string, port, count: 4 });
        expect(attempts.map((a) => a.seen)).toEqual([address, address, address, address]);
      }
      expect(await ping(lab, c.ns, lab.servers[1] as string)).toBe(true);
    }
    const icmpExpected = lab.clients.map((c) => {
      const v = decide(spec, new Map(), packet(c.address, lab.servers[1] as string, "icmp", "a")).verdict;
      return v.kind === "snat" ? v.address : null;
    });
    expect(await icmp.sources()).toEqual([...new Set(icmpExpected)].sort());
    // nothing un-NATed ever reached the server
    expect(listener.records().every((r) => poolOf(r.peer) === "pa")).toBe(true);
  });

  it("sh, sdh and sdph pick the predicted address, and the same one after a reload", async () => {
    const client = lab.clients[0]?.ns as string;
    const observe = async (spec: GatewaySpec) => {
      const out: Record<string, Array<string | undefined>> = {};
      for (const alg of ["sh", "sdh", "sdph"] as const) {
        const sources = addressesOf(NETS[alg], 12);
        const dst = lab.servers[alg === "sh" ? 0 : 1] as string;
        // fixed source ports, so the 5-tuple is the same before and after the reload
        const attempts = await connect(lab, client, { proto: "udp", dst, port: UDP, count: 12, sources, sport: 41000 });
        expect(attempts.every((a) => a.ok)).toBe(true);
        for (const a of attempts) expect(a.seen).toBe(predicted(spec, a, "udp", dst, UDP));
        out[alg] = attempts.map((a) => a.seen);
      }
      return out;
    };
    const first = algorithmSpec(2);
    await applyOk(lab, first);
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const before = await observe(first);
    // the hashes really spread over the 4 addresses
    expect(new Set(before.sh).size).toBeGreaterThan(1);
    expect(new Set(before.sdph).size).toBeGreaterThan(1);

    const second = algorithmSpec(3);
    await applyOk(lab, second);
    // new conntrack entries: the kernel decides afresh with the reloaded ruleset
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    expect(await observe(second)).toEqual(before);
  });

  it("a different seed moves clients (the seed is really the one in the spec)", async () => {
    const spec = algorithmSpec(4, 0x12345678);
    await applyOk(lab, spec);
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const sources = addressesOf(NETS.sh, 12);
    const attempts = await connect(lab, lab.clients[0]?.ns as string, {
      proto: "tcp",
      dst: lab.servers[0] as string,
      port: TCP,
      count: 12,
      sources,
    });
    for (const a of attempts) expect(a.seen).toBe(predicted(spec, a, "tcp", lab.servers[0] as string, TCP));
    const withDefaultSeed = attempts.map((a) => predicted(algorithmSpec(4), a, "tcp", lab.servers[0] as string, TCP));
    expect(attempts.map((a) => a.seen)).not.toEqual(withDefaultSeed);
  });

  it("random and rr spread connections over the pool", async () => {
    await applyOk(lab, algorithmSpec(5));
    const client = lab.clients[0]?.ns as string;
    const count = (attempts: Attempt[]) => {
      const n = new Map<string, number>();
      for (const a of attempts) n.set(a.seen ?? "none", (n.get(a.seen ?? "none") ?? 0) + 1);
      return n;
    };
    const rr = await connect(lab, client, {
      proto: "tcp",
      dst: lab.servers[2] as string,
      port: TCP,
      count: 40,
      sources: addressesOf(NETS.rr, 1),
      parallel: 1,
    });
    const rrCounts = count(rr);
    expect([...rrCounts.keys()].sort()).toEqual(POOLS.pa);
    // round robin: one after the other, so exactly even
    for (const n of rrCounts.values()) expect(n).toBe(10);

    const random = await connect(lab, client, {
      proto: "udp",
      dst: lab.servers[2] as string,
      port: UDP,
      count: 40,
      sources: addressesOf(NETS.random, 1),
    });
    expect(random.every((a) => poolOf(a.seen) === "pa")).toBe(true);
    expect(count(random).size).toBeGreaterThanOrEqual(3);
  });
});

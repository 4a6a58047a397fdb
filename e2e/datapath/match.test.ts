import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, countAtIsp, type LeakCounter, type Listener, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, packet, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * Which entry decides, on real traffic: the most specific source first, destination and egress
 * conditions, redirect through ISP B, exclude, drop, and unmatched traffic dropped (or forwarded
 * when the cluster says so). Every probe is also run through decide() and must agree.
 */

const TCP = 5000;
let lab: Lab;
let listener: Listener;
let atA: LeakCounter;
let atB: LeakCounter;
let spec: GatewaySpec;

// 203.0.113.30 is routed via ISP B by the gateway's own table, so egress conditions can be seen
const VIA_B = "203.0.113.30";
const EXTRA = "100.64.1.50";

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3 });
  await lab.addClientAddresses(0, [EXTRA], `${EXTRA}/32`);
  await lab.must(lab.ns.gateway, [
    "ip",
    "route",
    "add",
    `${VIA_B}/32`,
    "via",
    lab.ispB.nextHop,
    "dev",
    lab.ispB.gatewayInterface,
  ]);
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP] });
  atA = await countAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface);
  atB = await countAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface);
  spec = labSpec(lab, [
    // pinned first for every source: runs before the source lookup
    entry("0.0.0.0/0", "drop", { destination: "198.51.100.0/24" }),
    entry("100.64.1.2/32", { snat: "pa2", algorithm: "sh" }),
    entry("100.64.1.0/24", "drop", { destination: "203.0.113.20/32" }),
    entry("100.64.1.0/24", { snat: "pb", algorithm: "sh" }, { redirect: "b" }),
    entry("100.64.2.0/24", "exclude", { destination: "203.0.113.20/32" }),
    entry("100.64.2.0/24", { snat: "pb", algorithm: "sh" }, { egress: "b" }),
    entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { egress: "a" }),
  ]);
  await applyOk(lab, spec);
});

afterAll(async () => {
  await lab?.destroy();
});

interface Probe {
  name: string;
  client: number;
  src?: string;
  dst: string;
  /** the ISP the gateway's main table routes dst through */
  routed: "a" | "b";
  /** what the server sees: a pool name, "lan" (un-NATed), or "none" (dropped) */
  seen: "pa" | "pa2" | "pb" | "lan" | "none";
  via: "a" | "b" | null;
}

const probes: Probe[] = [
  { name: "a /32 beats its /24", client: 0, dst: "203.0.113.20", routed: "a", seen: "pa2", via: "a" },
  {
    name: "the /24's destination drop",
    client: 0,
    src: EXTRA,
    dst: "203.0.113.20",
    routed: "a",
    seen: "none",
    via: null,
  },
  {
    name: "the /24 redirected through ISP B",
    client: 0,
    src: EXTRA,
    dst: "203.0.113.10",
    routed: "a",
    seen: "pb",
    via: "b",
  },
  { name: "exclude by destination: un-NATed", client: 1, dst: "203.0.113.20", routed: "a", seen: "lan", via: "a" },
  { name: "egress b rule when routing picks b", client: 1, dst: VIA_B, routed: "b", seen: "pb", via: "b" },
  { name: "egress a rule when routing picks a", client: 1, dst: "203.0.113.10", routed: "a", seen: "pa", via: "a" },
  { name: "zone rule for another client", client: 2, dst: "203.0.113.10", routed: "a", seen: "pa", via: "a" },
  { name: "unmatched (routed via b) is dropped", client: 2, dst: VIA_B, routed: "b", seen: "none", via: null },
];

describe("matching on real traffic", () => {
  it.each(probes)("$name", async (p) => {
    const client = lab.clients[p.client];
    if (client === undefined) throw new Error("no such client");
    const src = p.src ?? client.address;
    const d = decide(spec, new Map(), packet(src, p.dst, "tcp", p.routed, 40000, TCP)).verdict;
    const decided = d.kind === "snat" ? d.poolId : d.kind === "forward" ? "lan" : "none";
    expect(decided).toBe(p.seen);

    await atA.reset();
    await atB.reset();
    const before = listener.records().length;
    const attempts = await connect(lab, client.ns, {
      proto: "tcp",
      dst: p.dst,
      port: TCP,
      count: 3,
      sources: [src],
      timeoutMs: p.seen === "none" ? 300 : 1000,
    });
    const seen = listener.records().slice(before);
    if (p.seen === "none") {
      expect(attempts.every((a) => !a.ok)).toBe(true);
      expect(seen).toEqual([]);
      expect(await atA.read()).toEqual({ lan: 0, pool: 0 });
      expect(await atB.read()).toEqual({ lan: 0, pool: 0 });
      return;
    }
    expect(attempts.every((a) => a.ok)).toBe(true);
    for (const r of seen) expect(p.seen === "lan" ? r.peer : poolOf(r.peer)).toBe(p.seen === "lan" ? src : p.seen);
    const a = await atA.read();
    const b = await atB.read();
    const used = p.via === "a" ? a : b;
    const other = p.via === "a" ? b : a;
    expect(p.seen === "lan" ? used.lan : used.pool).toBeGreaterThan(0);
    expect(other).toEqual({ lan: 0, pool: 0 });
    if (p.seen !== "lan") expect(used.lan).toBe(0);
  });

  it("lets the gateway's own traffic out un-NATed (the guard only stops forwarded LAN traffic)", async () => {
    const r = await lab.exec(lab.ns.gateway, ["fping", "-c", "1", "-t", "500", "-q", lab.servers[0] as string]);
    expect(r.code).toBe(0);
  });

  it("forwards unmatched traffic un-NATed when the cluster setting says forward", async () => {
    const forwarding = labSpec(lab, spec.entries, { unmatched: "forward", revision: 2 });
    await applyOk(lab, forwarding);
    try {
      const client = lab.clients[2];
      if (client === undefined) throw new Error("no client 3");
      const attempts = await connect(lab, client.ns, { proto: "tcp", dst: VIA_B, port: TCP, count: 2 });
      expect(attempts.map((x) => x.seen)).toEqual([client.address, client.address]);
    } finally {
      await applyOk(lab, spec);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide, type Packet } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, countAtIsp, type LeakCounter, type Listener, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * The further match criteria on real traffic: a destination-port rule (redirected through ISP
 * B), an input-interface rule, and two rules on marks the operator sets with their own rules: an
 * iptables mangle rule, and an nft table hooked before mangle (its mark also takes a redirect).
 * Every probe is run through decide() with the same inputs and must agree, and a counter after
 * Gatehouse's chains shows the operator's mark bits are still on the packet.
 */

const TCP_PLAIN = 5000;
const TCP_PORT_RULE = 5001;
const TCP_MARKED = 5002;
const UDP_MARKED = 5353;
const IPT_MARK = 0x10000000;
const NFT_MARK = 0x20000000;

let lab: Lab;
let listener: Listener;
let atA: LeakCounter;
let atB: LeakCounter;
let spec: GatewaySpec;

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3 });
  listener = await startListener(lab, lab.ns.server, {
    addresses: lab.servers,
    tcp: [TCP_PLAIN, TCP_PORT_RULE, TCP_MARKED],
    udp: [UDP_MARKED],
  });
  atA = await countAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface);
  atB = await countAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface);
  const c3 = lab.clients[2]?.address as string;
  // the operator's own marks: iptables mangle (as lvs-snat setups do for -f services), and an nft
  // table that runs before mangle, so Gatehouse's prerouting chain sees its mark too
  await lab.must(lab.ns.gateway, [
    "iptables",
    "-t",
    "mangle",
    "-A",
    "PREROUTING",
    "-s",
    c3,
    "-p",
    "tcp",
    "--dport",
    String(TCP_MARKED),
    "-j",
    "MARK",
    "--set-xmark",
    `0x${IPT_MARK.toString(16)}/0x${IPT_MARK.toString(16)}`,
  ]);
  await lab.must(lab.ns.gateway, ["nft", "-f", "-"], {
    input: [
      "table ip operator {",
      "  chain pre { type filter hook prerouting priority -160; policy accept;",
      `    ip saddr ${c3} udp dport ${UDP_MARKED} meta mark set meta mark | 0x${NFT_MARK.toString(16)}`,
      "  }",
      "  chain after { type filter hook postrouting priority 200; policy accept;",
      `    meta mark & 0xf0000000 == 0x${IPT_MARK.toString(16)} counter`,
      `    meta mark & 0xf0000000 == 0x${NFT_MARK.toString(16)} counter`,
      "  }",
      "}",
    ].join("\n"),
  });
  spec = labSpec(lab, [
    entry("100.64.1.0/24", { snat: "pb", algorithm: "sh" }, { protocol: "tcp", dstPorts: ["5001"], redirect: "b" }),
    entry("100.64.1.0/24", { snat: "pa", algorithm: "sh" }),
    entry("100.64.0.0/16", { snat: "pa2", algorithm: "sh" }, { inInterfaces: ["lan2"] }),
    entry("100.64.0.0/16", "exclude", { fwmark: { value: IPT_MARK, mask: 0xf0000000 } }),
    entry(
      "100.64.0.0/16",
      { snat: "pbf", algorithm: "sh" },
      { fwmark: { value: NFT_MARK, mask: NFT_MARK }, redirect: "b" },
    ),
    entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }),
  ]);
  await applyOk(lab, spec);
}, 120_000);

afterAll(async () => {
  await listener?.stop();
  await lab?.destroy();
});

interface Probe {
  name: string;
  client: number;
  proto: "tcp" | "udp";
  port: number;
  /** the mark the operator's rules put on the packet, for decide() */
  mark?: number;
  /** what the server sees: a pool name, or "lan" (un-NATed) */
  seen: "pa" | "pa2" | "pb" | "pbf" | "lan";
  via: "a" | "b";
}

const probes: Probe[] = [
  {
    name: "tcp to the rule's port: redirected, pool pb",
    client: 0,
    proto: "tcp",
    port: TCP_PORT_RULE,
    seen: "pb",
    via: "b",
  },
  { name: "tcp to another port: the plain rule", client: 0, proto: "tcp", port: TCP_PLAIN, seen: "pa", via: "a" },
  { name: "in by lan2: the interface rule", client: 1, proto: "tcp", port: TCP_PLAIN, seen: "pa2", via: "a" },
  { name: "in by lan3: not the interface rule", client: 2, proto: "tcp", port: TCP_PLAIN, seen: "pa", via: "a" },
  {
    name: "iptables mangle mark: excluded from NAT",
    client: 2,
    proto: "tcp",
    port: TCP_MARKED,
    mark: IPT_MARK,
    seen: "lan",
    via: "a",
  },
  {
    name: "nft mark before mangle: redirected, pool pbf",
    client: 2,
    proto: "udp",
    port: UDP_MARKED,
    mark: NFT_MARK,
    seen: "pbf",
    via: "b",
  },
];

describe("further match criteria on real traffic", () => {
  it.each(probes)("$name", async (p) => {
    const client = lab.clients[p.client];
    if (client === undefined) throw new Error("no such client");
    const dst = lab.servers[0] as string;
    const pkt: Packet = {
      src: client.address,
      dst,
      protocol: p.proto,
      srcPort: 40_000,
      dstPort: p.port,
      routedIspId: "a",
      inInterface: client.gatewayInterface,
      ...(p.mark === undefined ? {} : { mark: p.mark }),
    };
    const d = decide(spec, new Map(), pkt).verdict;
    expect(d.kind === "snat" ? d.poolId : d.kind === "forward" ? "lan" : "none").toBe(p.seen);

    await atA.reset();
    await atB.reset();
    const before = listener.records().length;
    const attempts = await connect(lab, client.ns, { proto: p.proto, dst, port: p.port, count: 3, timeoutMs: 1500 });
    expect(attempts.map((a) => a.ok)).toEqual([true, true, true]);
    const seen = listener.records().slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const r of seen)
      expect(p.seen === "lan" ? r.peer : poolOf(r.peer)).toBe(p.seen === "lan" ? client.address : p.seen);
    const a = await atA.read();
    const b = await atB.read();
    const used = p.via === "a" ? a : b;
    const other = p.via === "a" ? b : a;
    expect(p.seen === "lan" ? used.lan : used.pool).toBeGreaterThan(0);
    expect(other).toEqual({ lan: 0, pool: 0 });
  });

  it("leaves the operator's mark bits on the packet after Gatehouse's chains", async () => {
    const out = await lab.must(lab.ns.gateway, ["nft", "list", "chain", "ip", "operator", "after"]);
    const counts = [...out.matchAll(/meta mark (\S+) counter packets (\d+)/g)].map((m) => [m[1], Number(m[2])]);
    expect(counts, out).toHaveLength(2);
    for (const [, n] of counts) expect(n, out).toBeGreaterThan(0);
  });
});

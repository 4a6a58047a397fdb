import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALGORITHMS, PROTOCOLS } from "../policy/model";
import { decide, type FailoverState, type Packet } from "../spec/decide";
import { MARK_CLASSIFIED, MARK_ISP_MASK } from "../spec/marks";
import type { GatewaySpec } from "../spec/schema";
import { zGatewaySpec } from "../spec/schema";
import { renderNft, renderRuleset } from "./nft";

import { ipv4ToNumber } from "./intervals";
import { parseRuleset, type TracePacket, traceRuleset } from "../../testkit/nft-tracer";
import { renderRoutes } from "./routes";
import { entry, gatewaySpec, isp, officeSpec } from "../../testkit/spec-fixtures";

/**
 * The rendered ruleset must decide every connection exactly as `decide` does. The tracer runs
 * packets through the nft text itself, so these tests check the renderer's output, not its plan.
 */

const office = officeSpec();

/** The ISP a packet leaves through: its interface, and on an interface ISPs share, its next hop. */
const egressIsp = (spec: GatewaySpec, iface: string | null, nextHop: string | null) => {
  const on = spec.isps.filter((i) => i.interface === iface);
  return on.length > 1 ? on.find((i) => i.nextHop === nextHop) : on[0];
};

/** The outcome in words, from the trace of the rendered ruleset. */
function traced(
  spec: GatewaySpec,
  failover: FailoverState,
  p: Packet,
): { text: string; address: string | null; counted: string[] } {
  const routing = renderRoutes(spec);
  const ifaceOf = (id: string | null) => spec.isps.find((i) => i.id === id)?.interface ?? "lan9";
  const packet: TracePacket = {
    ...p,
    routedInterface: ifaceOf(p.routedIspId),
    routedNextHop: spec.isps.find((i) => i.id === p.routedIspId)?.nextHop ?? null,
    ...(p.lookupIspId === undefined ? {} : { lookupInterface: ifaceOf(p.lookupIspId) }),
  };
  const rendered = renderNft(spec, failover);
  const r = traceRuleset(rendered.text, packet, {
    interfaceOfTable: (t) => routing.routes.find((x) => x.table === t)?.dev ?? null,
    nextHopOfTable: (t) => routing.routes.find((x) => x.table === t)?.via ?? null,
    ruleCounts: rendered.ruleCounts,
  });
  const retried = r.retried ? " (retried)" : "";
  const { counted } = r;
  if (r.verdict === "drop") {
    if (r.droppedIn === "drop_rule") return { text: "drop rule", address: null, counted };
    if (r.droppedIn === "drop_unmatched") return { text: "drop unmatched", address: null, counted };
    throw new Error(`dropped in ${r.droppedIn}`);
  }
  if ((r.ctMark & MARK_CLASSIFIED) === 0) return { text: "not-egress", address: null, counted };
  const out = egressIsp(spec, r.outInterface, r.outNextHop);
  if (out === undefined) throw new Error(`classified packet leaves by ${r.outInterface}`);
  // the ISP number in the connection mark is what a failover flushes by: it must be the real egress
  expect(r.ctMark & MARK_ISP_MASK).toBe(out.index);
  expect(r.guardDropped).toBe(false);
  if (r.snat === null) return { text: `forward ${out.id}${retried}`, address: null, counted };
  if (r.snat.masquerade) return { text: `snat ${out.id} masquerade${retried}`, address: null, counted };
  const poolOf = spec.pools.find((x) => x.addresses.join() === r.snat?.candidates.join());
  if (poolOf === undefined) throw new Error(`SNAT to unknown candidates ${r.snat.candidates}`);
  return { text: `snat ${out.id} ${poolOf.id}${retried}`, address: r.snat.address, counted };
}

/** The counters a connection must move: its matched rule's, once; none when no rule decided it. */
function expectedCounted(spec: GatewaySpec, failover: FailoverState, p: Packet): string[] {
  const d = decide(spec, failover, p);
  return d.matched === null || d.verdict.kind === "not-egress" ? [] : [d.matched.ruleId];
}

function decided(spec: GatewaySpec, failover: FailoverState, p: Packet): { text: string; address: string | null } {
  const d = decide(spec, failover, p);
  const v = d.verdict;
  const retried = d.retried ? " (retried)" : "";
  switch (v.kind) {
    case "not-egress":
      return { text: "not-egress", address: null };
    case "drop":
      return { text: `drop ${v.why}`, address: null };
    case "forward":
      return { text: `forward ${v.ispId}${retried}`, address: null };
    case "snat":
      if (v.masquerade !== undefined) {
        // the interface whose address the source becomes is the one the connection leaves by
        expect(v.masquerade).toBe(d.interface);
        return { text: `snat ${v.ispId} masquerade${retried}`, address: null };
      }
      return { text: `snat ${v.ispId} ${v.poolId}${retried}`, address: v.address };
  }
}

interface Case {
  name: string;
  src: string;
  dst: string;
  proto: "tcp" | "udp" | "icmp";
  port?: number;
  egress: string | null;
  expect: string;
}

const cases: Case[] = [
  {
    name: "5-tuple rule",
    src: "100.64.1.5",
    dst: "203.0.113.20",
    proto: "tcp",
    port: 443,
    egress: "a",
    expect: "snat a pa",
  },
  {
    name: "5-tuple rule is tcp only",
    src: "100.64.1.5",
    dst: "203.0.113.20",
    proto: "udp",
    port: 443,
    egress: "a",
    expect: "snat a pa",
  },
  {
    name: "destination drop",
    src: "100.64.1.5",
    dst: "203.0.113.30",
    proto: "udp",
    port: 53,
    egress: "a",
    expect: "drop rule",
  },
  {
    name: "drop comes before the /25 exclude",
    src: "100.64.1.200",
    dst: "203.0.113.30",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "drop rule",
  },
  {
    name: "exclude",
    src: "100.64.1.200",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "forward a",
  },
  {
    name: "exclude keeps the routed ISP",
    src: "100.64.1.200",
    dst: "203.0.113.10",
    proto: "icmp",
    egress: "c",
    expect: "forward c",
  },
  {
    name: "redirect to b",
    src: "100.64.2.9",
    dst: "203.0.113.10",
    proto: "udp",
    port: 5001,
    egress: "a",
    expect: "snat b pb",
  },
  {
    name: "redirect whatever routing picked",
    src: "100.64.2.9",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 22,
    egress: "c",
    expect: "snat b pb",
  },
  {
    name: "egress b rule",
    src: "100.64.3.7",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "b",
    expect: "snat b pb",
  },
  {
    name: "egress b rule skipped via a",
    src: "100.64.3.7",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "snat a pa",
  },
  { name: "icmp rule", src: "100.64.9.1", dst: "203.0.113.10", proto: "icmp", egress: "a", expect: "snat a pa2" },
  {
    name: "zone rule by egress a",
    src: "100.64.9.1",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "snat a pa",
  },
  {
    name: "zone rule by egress c",
    src: "100.64.9.1",
    dst: "203.0.113.10",
    proto: "udp",
    port: 80,
    egress: "c",
    expect: "snat c pc",
  },
  {
    name: "destination-only rule",
    src: "100.64.9.1",
    dst: "198.51.100.77",
    proto: "udp",
    port: 9,
    egress: "b",
    expect: "snat b pb",
  },
  {
    name: "unmatched via b",
    src: "100.64.9.1",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "b",
    expect: "drop unmatched",
  },
  {
    name: "unmatched source",
    src: "100.70.0.1",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "drop unmatched",
  },
  {
    name: "not leaving via an ISP",
    src: "100.64.9.1",
    dst: "100.64.2.2",
    proto: "tcp",
    port: 80,
    egress: null,
    expect: "not-egress",
  },
];

const failedOverA: FailoverState = new Map([["a", "b"]]);
const failoverCases: Case[] = [
  {
    name: "failover: rule pool replaced by fallback",
    src: "100.64.9.1",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "snat b pbf",
  },
  {
    name: "failover: planned default pool of b",
    src: "100.64.9.1",
    dst: "203.0.113.10",
    proto: "icmp",
    egress: "a",
    expect: "snat b pb",
  },
  {
    name: "failover: exclude moves too",
    src: "100.64.1.200",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "forward b",
  },
  {
    name: "failover: egress-a rules still match on routing",
    src: "100.64.3.7",
    dst: "203.0.113.10",
    proto: "udp",
    port: 80,
    egress: "a",
    expect: "snat b pb",
  },
  {
    name: "failover: b itself unchanged",
    src: "100.64.3.7",
    dst: "203.0.113.10",
    proto: "udp",
    port: 80,
    egress: "b",
    expect: "snat b pb",
  },
  {
    name: "failover: unmatched still dropped",
    src: "100.70.0.1",
    dst: "203.0.113.10",
    proto: "tcp",
    port: 80,
    egress: "a",
    expect: "drop unmatched",
  },
];

function packetOf(c: Case): Packet {
  return {
    src: c.src,
    dst: c.dst,
    protocol: c.proto,
    srcPort: c.port === undefined ? undefined : 40000,
    dstPort: c.port,
    routedIspId: c.egress,
  };
}

describe("rendered ruleset decides like decide()", () => {
  it("uses a valid spec", () => {
    expect(zGatewaySpec.safeParse(office).success).toBe(true);
  });

  it.each(cases)("$name", (c) => {
    const p = packetOf(c);
    const t = traced(office, new Map(), p);
    const d = decided(office, new Map(), p);
    expect(t.counted).toEqual(expectedCounted(office, new Map(), p));
    expect(t.text).toBe(c.expect);
    expect(d.text).toBe(c.expect);
    expect(t.address).toBe(d.address);
  });

  it.each(failoverCases)("$name", (c) => {
    const p = packetOf(c);
    const t = traced(office, failedOverA, p);
    expect(t.counted).toEqual(expectedCounted(office, failedOverA, p));
    expect(t.text).toBe(c.expect);
    expect(decided(office, failedOverA, p).text).toBe(c.expect);
    expect(t.address).toBe(decided(office, failedOverA, p).address);
  });

  it("a rule that never moves stays on its failed ISP; a rule with its own backup goes there", () => {
    const spec = gatewaySpec({
      isps: office.isps,
      pools: office.pools,
      entries: [
        entry("100.64.1.0/24", { snat: "pa", algorithm: "sh" }, { egress: "a", onFailover: "stay" }),
        entry(
          "100.64.2.0/24",
          { snat: "pa", algorithm: "sh" },
          { egress: "a", onFailover: "own", failoverIsp: "c", fallback: "pc" },
        ),
        entry("100.64.3.0/24", "exclude", { egress: "a", onFailover: "own", failoverIsp: "c" }),
        entry("100.64.4.0/24", { snat: "pa", algorithm: "sh" }, { egress: "a" }),
      ],
    });
    const at = (src: string): Packet => ({
      src,
      dst: "203.0.113.10",
      protocol: "tcp",
      srcPort: 40000,
      dstPort: 80,
      routedIspId: "a",
    });
    const expected: Array<[string, string]> = [
      ["100.64.1.9", "snat a pa"],
      ["100.64.2.9", "snat c pc"],
      ["100.64.3.9", "forward c"],
      ["100.64.4.9", "snat b pb"],
    ];
    for (const [src, text] of expected) {
      expect(traced(spec, failedOverA, at(src)).text).toBe(text);
      expect(decided(spec, failedOverA, at(src)).text).toBe(text);
    }
    // with the own backup failed over itself, the own rule follows a's failover
    const both: FailoverState = new Map([
      ["a", "b"],
      ["c", "b"],
    ]);
    expect(traced(spec, both, at("100.64.2.9")).text).toBe("snat b pb");
    expect(decided(spec, both, at("100.64.2.9")).text).toBe("snat b pb");
  });

  it("unmatched traffic is forwarded un-NATed when the cluster says so, and the guard lets it pass", () => {
    const spec = { ...office, settings: { ...office.settings, unmatched: "forward" as const } };
    const p = packetOf(cases.find((c) => c.name === "unmatched source") as Case);
    expect(traced(spec, new Map(), p).text).toBe("forward a");
    expect(traced(spec, failedOverA, p).text).toBe("forward b");
    expect(decided(spec, failedOverA, p).text).toBe("forward b");
  });

  it("hash algorithms pick the address pickAddress predicts", () => {
    let differentAddresses = 0;
    const seen = new Set<string>();
    for (let i = 1; i < 200; i++) {
      const p: Packet = {
        src: `100.64.${9 + (i % 3)}.${i}`,
        dst: `203.0.113.${i % 50}`,
        protocol: "tcp",
        srcPort: 30000 + i,
        dstPort: 80,
        routedIspId: "a",
      };
      const t = traced(office, new Map(), p);
      expect(t.address).toBe(decided(office, new Map(), p).address);
      if (t.address !== null) seen.add(t.address);
      differentAddresses = seen.size;
    }
    // sdh over a 4-address pool: the hash really spreads
    expect(differentAddresses).toBe(4);
  });
});

describe("tracer", () => {
  it("refuses a rule shape it does not know", () => {
    const text = renderRuleset(office, new Map()).replace(
      "ip saddr vmap @by_source",
      "ip saddr vmap @by_source\n\t\tip dscp 46 accept",
    );
    expect(() =>
      traceRuleset(
        text,
        { src: "100.70.0.1", dst: "203.0.113.10", protocol: "tcp", routedInterface: "ispa" },
        { interfaceOfTable: () => null },
      ),
    ).toThrow(/unknown statement/);
  });

  it("refuses a file line it does not know", () => {
    expect(() => parseRuleset("add rule inet gatehouse prerouting accept\n")).toThrow(/unknown line/);
  });
});

/** Random specs over a small address universe, so rules overlap, nest and tie a lot. */
const sources = [
  "0.0.0.0/0",
  "100.64.0.0/10",
  "100.64.0.0/16",
  "100.64.1.0/24",
  "100.64.1.128/25",
  "100.64.1.64/26",
  "100.64.2.0/24",
  "100.64.1.7/32",
];
const destinations = [null, "203.0.113.0/24", "203.0.113.0/25", "203.0.113.16/28", "198.51.100.0/24"];
const srcAddrs = ["100.64.1.7", "100.64.1.130", "100.64.1.70", "100.64.2.1", "100.64.3.3", "100.65.0.1", "10.1.1.1"];
const dstAddrs = ["203.0.113.1", "203.0.113.20", "203.0.113.200", "198.51.100.5", "8.8.8.8"];
const ispIds = ["a", "b", "c"];
const poolIds = ["pa", "pb", "pc", "pa2"];
/** an interface-address pool of ISP c (masquerade) */
const MASQUERADE_POOL = {
  id: "pm",
  name: "pm",
  ispId: "c",
  mode: "interface" as const,
  addresses: [],
  portRange: null,
};

const arbEntry = fc
  .record({
    source: fc.constantFrom(...sources),
    destination: fc.constantFrom(...destinations),
    protocol: fc.constantFrom(...PROTOCOLS),
    egress: fc.option(fc.constantFrom(...ispIds), { freq: 2 }),
    redirect: fc.option(fc.constantFrom(...ispIds), { freq: 4 }),
    fallback: fc.option(fc.constantFrom(...poolIds, "pm"), { freq: 3 }),
    onFailover: fc.constantFrom("follow" as const, "follow" as const, "stay" as const, "own" as const),
    failoverIsp: fc.constantFrom(...ispIds),
    dstPorts: fc.option(fc.constantFrom<string[]>(["443"], ["80", "8000-8100"], ["1-1024"]), {
      freq: 3,
      nil: undefined,
    }),
    inInterfaces: fc.option(fc.constantFrom<string[]>(["lan0"], ["lan1"], ["lan0", "lan2"]), {
      freq: 3,
      nil: undefined,
    }),
    fwmark: fc.option(
      fc.constantFrom({ value: 0x10000000, mask: 0x10000000 }, { value: 0x20000000, mask: 0xf0000000 }),
      { freq: 3 },
    ),
    action: fc.oneof(
      fc.record({ snat: fc.constantFrom(...poolIds, "pm"), algorithm: fc.constantFrom(...ALGORITHMS) }),
      fc.constant("exclude" as const),
      fc.constant("drop" as const),
    ),
  })
  .map((e) =>
    entry(e.source, e.action, {
      destination: e.destination,
      protocol: e.protocol,
      egress: e.egress,
      redirect: e.redirect,
      fallback: e.fallback,
      onFailover: e.onFailover,
      failoverIsp: e.onFailover === "own" ? e.failoverIsp : null,
      dstPorts: e.dstPorts,
      inInterfaces: e.inInterfaces,
      fwmark: e.fwmark,
    }),
  );

/** ISP c on its own interface, or sharing b's (two upstream routers on one link, told apart by next hop) */
const arbSpecOn = (cInterface: string) =>
  fc
    .record({
      entries: fc.array(arbEntry, { maxLength: 14 }),
      unmatched: fc.constantFrom("drop" as const, "forward" as const),
      seed: fc.integer({ min: 0, max: 0xffffffff }),
    })
    .map(({ entries, unmatched, seed }) =>
      gatewaySpec({
        isps: [
          isp("a", 1, "ispa", "100.65.1.2", [
            { ispId: "b", defaultPoolId: "pb" },
            { ispId: "c", defaultPoolId: null },
          ]),
          isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa2" }]),
          isp("c", 7, cInterface, "100.65.3.2", [{ ispId: "b", defaultPoolId: "pb" }]),
        ],
        pools: [...office.pools.filter((x) => poolIds.includes(x.id)), MASQUERADE_POOL],
        entries,
        unmatched,
        hashSeed: seed,
      }),
    );

const arbSpec = arbSpecOn("ispc");

const arbFailover = fc
  .subarray([
    ["a", "b"],
    ["a", "c"],
    ["b", "a"],
    ["c", "b"],
    ["b", "c"],
  ] as Array<[string, string]>)
  .map((pairs) => {
    const state = new Map<string, string>();
    for (const [from, to] of pairs) if (!state.has(from)) state.set(from, to);
    return state as FailoverState;
  });

const arbPacket = fc.record({
  src: fc.constantFrom(...srcAddrs),
  dst: fc.constantFrom(...dstAddrs),
  protocol: fc.constantFrom("tcp" as const, "udp" as const, "icmp" as const),
  srcPort: fc.integer({ min: 1, max: 65535 }),
  dstPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(80, 443, 1024, 8000, 8100, 8101)),
  inInterface: fc.constantFrom("lan0", "lan1", "lan2"),
  // what the operator's own rules set, in the bits Gatehouse leaves to them
  mark: fc.constantFrom(0, 0x10000000, 0x20000000, 0x30000000, 0xa0000000),
  routedIspId: fc.option(fc.constantFrom(...ispIds), { freq: 6 }),
  // the lookup before routing may disagree with the kernel's real choice (ECMP, iif rules)
  lookupIspId: fc.option(fc.option(fc.constantFrom(...ispIds), { freq: 6 }), { freq: 2, nil: undefined }),
});

describe("the lookup before routing and the real route disagree", () => {
  const spec = gatewaySpec({
    isps: [
      isp("a", 1, "ispa", "100.65.1.2", [{ ispId: "b", defaultPoolId: "pb" }]),
      isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa" }]),
    ],
    pools: [
      { id: "pa", name: "pa", ispId: "a", mode: "routed", addresses: ["198.51.100.10"], portRange: null },
      { id: "pb", name: "pb", ispId: "b", mode: "routed", addresses: ["198.51.100.130"], portRange: null },
    ],
    entries: [
      entry("100.64.0.0/10", { snat: "pa" }, { egress: "a" }),
      entry("100.64.0.0/10", { snat: "pb" }, { egress: "b" }),
    ],
  });
  const p = (routed: string, lookup: string): Packet => ({
    src: "100.64.1.2",
    dst: "203.0.113.10",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: 443,
    routedIspId: routed,
    lookupIspId: lookup,
  });

  it("without a reroute the real route decides, whatever the lookup said", () => {
    expect(traced(spec, new Map(), p("b", "a")).text).toBe("snat b pb");
    expect(traced(spec, new Map(), p("a", "b")).text).toBe("snat a pa");
  });

  it("a failover the lookup missed is caught after routing and the retransmission rerouted", () => {
    const failover = new Map([["a", "b"]]);
    expect(traced(spec, failover, p("a", "b")).text).toBe("snat b pb (retried)");
    expect(decided(spec, failover, p("a", "b")).text).toBe("snat b pb (retried)");
    // a failover the lookup saw is rerouted before routing, at once
    expect(traced(spec, failover, p("b", "a")).text).toBe("snat b pb");
  });
});

describe("random specs", () => {
  it("trace and decide agree on every packet", () => {
    fc.assert(
      fc.property(
        arbSpec,
        arbFailover,
        fc.array(arbPacket, { minLength: 1, maxLength: 12 }),
        (spec, failover, packets) => {
          for (const raw of packets) {
            const p: Packet = raw.protocol === "icmp" ? { ...raw, srcPort: undefined, dstPort: undefined } : raw;
            const t = traced(spec, failover, p);
            const d = decided(spec, failover, p);
            expect(t.text).toBe(d.text);
            expect(t.address).toBe(d.address);
            // counters never decide anything, and each connection moves exactly its rule's
            expect(t.counted).toEqual(expectedCounted(spec, failover, p));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("trace and decide agree with two ISPs on one interface told apart by next hop", () => {
    fc.assert(
      fc.property(
        arbSpecOn("ispb"),
        arbFailover,
        fc.array(arbPacket, { minLength: 1, maxLength: 12 }),
        (spec, failover, packets) => {
          for (const raw of packets) {
            const p: Packet = raw.protocol === "icmp" ? { ...raw, srcPort: undefined, dstPort: undefined } : raw;
            const t = traced(spec, failover, p);
            const d = decided(spec, failover, p);
            expect(t.text).toBe(d.text);
            expect(t.address).toBe(d.address);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("many networks (hash maps per prefix length)", () => {
  const dotted = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  const base = (100 * 2 ** 24 + 64 * 2 ** 16) >>> 0;
  const spec = gatewaySpec({
    isps: office.isps,
    pools: office.pools,
    entries: [
      ...Array.from({ length: 20 }, (_, i) =>
        entry(`${dotted(base + 4096 + i * 4)}/30`, i % 2 === 0 ? "exclude" : { snat: "pbf", algorithm: "rr" }),
      ),
      ...Array.from({ length: 40 }, (_, i) =>
        entry(
          `${dotted(base + i * 64)}/26`,
          { snat: ["pa", "pb", "pc"][i % 3] as string, algorithm: "sh" },
          {
            destination: i % 4 === 0 ? "203.0.113.0/25" : null,
          },
        ),
      ),
      entry("100.64.0.0/16", { snat: "pa2", algorithm: "sdh" }, { egress: "a" }),
      entry("0.0.0.0/0", "drop", { protocol: "udp" }),
    ],
  });

  it("splits the lookup into hash maps and still decides like decide()", () => {
    const text = renderRuleset(spec, new Map());
    expect(text).toContain("ip saddr & 255.255.255.192 vmap @by_source_26");
    expect(text).toContain("ip saddr & 255.255.255.252 vmap @by_source_30");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8191 }),
        fc.constantFrom("203.0.113.5", "203.0.113.200"),
        fc.constantFrom("tcp" as const, "udp" as const),
        fc.constantFrom("a", "b"),
        (offset, dst, protocol, routed) => {
          const p: Packet = {
            src: dotted(base - 1024 + offset),
            dst,
            protocol,
            srcPort: 1000,
            dstPort: 80,
            routedIspId: routed,
          };
          const t = traced(spec, new Map(), p);
          const d = decided(spec, new Map(), p);
          expect(t.text).toBe(d.text);
          expect(t.address).toBe(d.address);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("specs compiled from generated policies", () => {
  it("trace and decide agree on compiled specs with overlapping rules, zones and priorities", async () => {
    const { compileGatewaySpec } = await import("../policy/compile");
    const { generatePolicy } = await import("../../testkit/policy-fixtures");
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const policy = generatePolicy({ rules: 40, seed, overlapping: true });
      const spec = compileGatewaySpec({
        policy,
        revision: seed,
        clusterId: "c1",
        clusterName: "generated",
        gateway: { id: "g1", name: "gw1" },
        failover: [],
        failoverEpoch: 0,
      });
      const failovers: FailoverState[] = [new Map()];
      const [first, second] = spec.isps;
      if (first !== undefined && second !== undefined) failovers.push(new Map([[first.id, second.id]]));
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          fc.constantFrom("tcp" as const, "udp" as const, "icmp" as const),
          fc.option(fc.constantFrom(...spec.isps.map((i) => i.id)), { freq: 8 }),
          fc.constantFrom(...failovers),
          fc.constantFrom(...spec.entries.map((e) => e.source)),
          (a, b, protocol, routedIspId, failover, near) => {
            // half the packets come from inside a rule's source network, so rules really match
            const base = ipv4ToNumber(near.split("/")[0] as string);
            const src = a % 2 === 0 ? base + (a % 256) : a;
            const dotted = (v: number) => `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
            const p: Packet = {
              src: dotted(src >>> 0),
              dst: dotted(b),
              protocol,
              srcPort: 1234,
              dstPort: 443,
              routedIspId,
            };
            if (protocol === "icmp") Object.assign(p, { srcPort: undefined, dstPort: undefined });
            const t = traced(spec, failover, p);
            const d = decided(spec, failover, p);
            expect(t.text).toBe(d.text);
            expect(t.address).toBe(d.address);
            // counters never decide anything, and each connection moves exactly its rule's
            expect(t.counted).toEqual(expectedCounted(spec, failover, p));
          },
        ),
        { numRuns: 150 },
      );
    }
  });
});

describe("guard: LAN traffic leaving by a non-ISP uplink", () => {
  const spec = { ...office, settings: { ...office.settings, lanInterfaces: ["lan0"], internalInterfaces: ["dmz0"] } };
  const routing = renderRoutes(spec);
  const trace = (s: GatewaySpec, routedInterface: string, inInterface = "lan0") =>
    traceRuleset(
      renderRuleset(s, new Map()),
      {
        src: "100.64.9.5",
        dst: "203.0.113.20",
        protocol: "udp",
        srcPort: 5000,
        dstPort: 53,
        routedInterface,
        inInterface,
      },
      { interfaceOfTable: (t) => routing.routes.find((x) => x.table === t)?.dev ?? null },
    );

  it("drops LAN traffic routed out of an interface that is no LAN, ISP or internal one", () => {
    expect(trace(spec, "vpn0").guardDropped).toBe(true);
  });

  it("lets it out by an internal or a LAN interface, and leaves other sources alone", () => {
    expect(trace(spec, "dmz0").guardDropped).toBe(false);
    expect(trace(spec, "lan1").guardDropped).toBe(true);
    expect(trace(spec, "vpn0", "mgmt0").guardDropped).toBe(false);
  });

  it("checks nothing while the cluster names no LAN interface", () => {
    expect(trace(office, "vpn0").guardDropped).toBe(false);
  });
});

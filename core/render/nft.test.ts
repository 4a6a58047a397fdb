import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { FailoverState } from "../spec/decide";
import { MARK_ACTION_SHIFT, ruleSlotMark, ruleSlotOf } from "../spec/marks";
import type { GatewaySpec } from "../spec/schema";
import { type ExistingObjects, renderNft, renderRuleset } from "./nft";
import { parseRuleset } from "../../testkit/nft-tracer";
import { RenderError } from "./plan";
import { entry, gatewaySpec, isp, officeSpec, pool } from "../../testkit/spec-fixtures";

/**
 * Golden files pin the exact text; UPDATE_GOLDEN=1 npx vitest run core/render rewrites them
 * (read the diff before committing it). The other tests state properties the text must have.
 */
const GOLDEN_DIR = fileURLToPath(new URL("./__golden__/", import.meta.url));

function golden(name: string, text: string): void {
  const path = `${GOLDEN_DIR}${name}.nft`;
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, text);
    if (process.env.UPDATE_GOLDEN !== "1") throw new Error(`golden file ${name}.nft was missing and has been written`);
    return;
  }
  expect(text).toBe(readFileSync(path, "utf8"));
}

/** Specific /24s under one /16 and a catch-all: the shape that shares chain tails. */
function campusSpec(): GatewaySpec {
  return gatewaySpec({
    isps: [isp("a", 1, "ispa", "100.65.1.2"), isp("b", 2, "ispb", "100.65.2.2")],
    pools: [pool("pa", "a", ["198.51.100.10", "198.51.100.11"]), pool("pb", "b", ["198.51.100.130"])],
    entries: [
      entry("100.64.10.0/24", { snat: "pb", algorithm: "sh" }, { destination: "203.0.113.0/28" }),
      entry("100.64.10.0/24", { snat: "pb", algorithm: "sh" }, { destination: "203.0.113.16/28" }),
      entry("100.64.11.0/24", "drop", { protocol: "udp" }),
      entry("100.64.12.0/24", { snat: "pa", algorithm: "rr" }, { protocol: "tcp" }),
      entry("100.64.0.0/16", { snat: "pa", algorithm: "sh" }, { egress: "a" }),
      entry("100.64.0.0/16", "exclude", { destination: "198.51.100.0/24" }),
      entry("0.0.0.0/0", { snat: "pb", algorithm: "sdh" }),
    ],
    unmatched: "forward",
  });
}

const noFailover: FailoverState = new Map();

describe("renderRuleset golden files", () => {
  it("office", () => golden("office", renderRuleset(officeSpec(), noFailover)));
  it("office with ISP a failed over to b", () =>
    golden("office-failover", renderRuleset(officeSpec(), new Map([["a", "b"]]))));
  it("office reloaded over a table with objects that are gone", () => {
    const existing: ExistingObjects = {
      chains: ["prerouting", "src_1", "src_99", "out_40"],
      maps: ["by_source", "pool_1", "pool_9"],
      sets: ["isp_ifaces", "applied", "old_set"],
      counters: ["rule_r1", "rule_gone", "other_counter"],
    };
    golden("office-reload", renderRuleset(officeSpec(), noFailover, existing));
  });
  it("keeps the counters of the rules that stay and deletes those of slots that are another rule's or none", () => {
    const want = renderNft(officeSpec(), noFailover).ruleCounts;
    const [kept, moved] = want;
    if (kept === undefined || moved === undefined) throw new Error("office has counted rules");
    const existing: ExistingObjects = {
      chains: [],
      maps: [],
      sets: ["rule_hits"],
      // one key stays, one is a gone rule's, one slot is another rule's now
      ruleCounts: [kept, { key: 0x0fffe000, ruleId: "gone" }, { key: moved.key, ruleId: "before" }],
    };
    const lines = renderRuleset(officeSpec(), noFailover, existing).split("\n");
    const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
    // a dynamic element may not be there: added (a no-op when it is) and then deleted
    const touched = lines.filter((l) => / element inet gatehouse rule_hits/.test(l));
    expect(touched).toEqual([
      `add element inet gatehouse rule_hits { 0x0fffe000, ${hex(moved.key)} }`,
      `delete element inet gatehouse rule_hits { 0x0fffe000, ${hex(moved.key)} }`,
    ]);
    // the set is not flushed: a counter that stays keeps what it counted
    expect(lines).not.toContain("flush set inet gatehouse rule_hits");
    // not knowing what the slots stood for: the set is emptied
    const unknown = renderRuleset(officeSpec(), noFailover, { chains: [], maps: [], sets: ["rule_hits"] });
    expect(unknown.split("\n")).toContain("flush set inet gatehouse rule_hits");
    expect(unknown).not.toMatch(/^(add|delete) element inet gatehouse rule_hits/m);
    // a set this load creates needs neither
    const fresh = renderRuleset(officeSpec(), noFailover, { chains: [], maps: [], sets: [] });
    expect(fresh).not.toMatch(/^(flush set|add element|delete element) inet gatehouse rule_hits/m);
    // the static set of earlier agents goes
    const upgrade = renderRuleset(officeSpec(), noFailover, { chains: [], maps: [], sets: ["rule_counts"] });
    expect(upgrade.split("\n")).toContain("delete set inet gatehouse rule_counts");
    // a load over the one before (a failover's quick load) touches no element
    const first = renderNft(officeSpec(), noFailover);
    const again = renderRuleset(officeSpec(), new Map([["a", "b"]]), {
      chains: first.chains,
      maps: first.maps,
      sets: first.sets,
      ruleCounts: first.ruleCounts,
    });
    expect(again).not.toMatch(/^(add|delete) element inet gatehouse rule_hits/m);
    expect(again).not.toContain("flush set inet gatehouse rule_hits");
    // the named counters of an agent from before the set go, and only those
    const legacy = renderRuleset(officeSpec(), noFailover, {
      chains: [],
      maps: [],
      sets: [],
      counters: ["rule_r1", "traffic_r1", "x"],
    }).split("\n");
    expect(legacy.filter((l) => l.startsWith("delete counter"))).toEqual([
      "delete counter inet gatehouse rule_r1",
      "delete counter inet gatehouse traffic_r1",
    ]);
    expect(legacy.some((l) => l.startsWith("add counter"))).toBe(false);
  });
  it("campus: shared tails and unmatched forward", () => golden("campus", renderRuleset(campusSpec(), noFailover)));
  it("empty spec", () => golden("empty", renderRuleset(gatewaySpec({ isps: [], pools: [], entries: [] }), noFailover)));
});

describe("renderRuleset", () => {
  const text = renderRuleset(officeSpec(), noFailover);
  const lines = text.split("\n");

  it("declares every chain, map and set with a comment", () => {
    const decls = lines.filter((l) => /^add (chain|map|set) /.test(l));
    expect(decls.length).toBeGreaterThan(20);
    for (const d of decls) expect(d).toMatch(/comment "[^"]+"; \}$/);
  });

  it("declares objects the same way whatever operators named things (nft keeps the first comment of a chain)", () => {
    const renamed = officeSpec();
    for (const i of renamed.isps) i.name = `renamed ${i.name}`;
    for (const p of renamed.pools) p.name = `renamed ${p.name}`;
    const decls = (t: string) => t.split("\n").filter((l) => /^add (chain|map|set) /.test(l));
    const other = renderRuleset(renamed, noFailover);
    expect(decls(other)).toEqual(decls(text));
    // the names still show, on rules, which are replaced at every load
    expect(other).toContain('comment "via renamed a, SNAT renamed pa sdph"');
  });

  it("never uses an nft keyword as a chain name", () => {
    const keywords = new Set([
      "snat",
      "dnat",
      "fwd",
      "in",
      "ip",
      "meta",
      "ct",
      "counter",
      "accept",
      "drop",
      "jump",
      "goto",
    ]);
    for (const name of renderNft(officeSpec(), noFailover).chains) {
      expect(keywords.has(name)).toBe(false);
      expect(name).toMatch(/^[a-z]+(_[a-z0-9]+)*$/);
    }
  });

  it("ends every vmap statement with a newline", () => {
    for (const l of lines.filter((x) => x.includes(" vmap "))) expect(l.trimEnd()).toMatch(/(@\w+|\})$/);
  });

  it("keeps the table and flushes it, and flushes only maps that already exist", () => {
    expect(lines.slice(1, 3)).toEqual(["add table inet gatehouse", "flush table inet gatehouse"]);
    expect(text).not.toMatch(/delete table/);
    expect(text).not.toMatch(/^flush map/m);
    const reload = renderRuleset(officeSpec(), noFailover, { chains: [], maps: ["by_source"], sets: [] });
    expect(reload).toMatch(/^flush map inet gatehouse by_source$/m);
    expect(reload.match(/^flush map/gm)).toHaveLength(1);
  });

  it("deletes exactly the chains, maps and sets that are gone, after flushing what referred to them", () => {
    const out = renderRuleset(officeSpec(), noFailover, {
      chains: ["src_1", "src_99"],
      maps: ["by_source", "pool_9"],
      sets: ["applied", "old_set"],
    }).split("\n");
    const deletes = out.filter((l) => l.startsWith("delete "));
    // gone maps first: their elements may still jump to gone chains (nft answers EBUSY otherwise)
    expect(deletes).toEqual([
      "delete map inet gatehouse pool_9",
      "delete set inet gatehouse old_set",
      "delete chain inet gatehouse src_99",
    ]);
    const firstDelete = out.findIndex((l) => l.startsWith("delete "));
    expect(out.indexOf("flush map inet gatehouse by_source")).toBeLessThan(firstDelete);
    expect(out.findIndex((l) => l.startsWith("add element"))).toBeGreaterThan(firstDelete);
  });

  it("declares all chains before any map (nft 1.0.6 cannot fill a new interval map otherwise)", () => {
    const lastChain = lines.findLastIndex((l) => l.startsWith("add chain inet gatehouse "));
    const firstMap = lines.findIndex((l) => /^add (map|set) inet gatehouse /.test(l));
    expect(lastChain).toBeLessThan(firstMap);
  });

  it("hashes with the cluster seed over the pool in spec order", () => {
    const spec = officeSpec();
    spec.settings.hashSeed = 0xdeadbeef;
    const out = renderRuleset(spec, noFailover);
    expect(out).toContain("jhash ip saddr . ip daddr mod 4 seed 0xdeadbeef map @pool_1");
    expect(out).toContain(
      "add element inet gatehouse pool_1 { 0 : 198.51.100.10, 1 : 198.51.100.11, 2 : 198.51.100.12, 3 : 198.51.100.13 }",
    );
    expect(out).not.toMatch(/jhash[^\n]*mod \d+ map/);
  });

  it("applies port ranges to tcp and udp only", () => {
    const nat = text.split("\n").filter((l) => l.includes("snat ip to") && l.includes("@pool_1"));
    for (const l of nat) {
      if (l.includes(": 1024-65535")) expect(l).toMatch(/^\t\tmeta l4proto \{ tcp, udp \} snat/);
    }
    expect(nat.some((l) => l.includes(": 1024-65535"))).toBe(true);
    expect(nat.some((l) => !l.includes(":"))).toBe(true);
  });

  it("numbers NAT actions by pool and algorithm, not by rule order", () => {
    const spec = officeSpec();
    const reversed = { ...spec, entries: [...spec.entries].reverse() };
    const actions = (s: GatewaySpec) =>
      renderRuleset(s, noFailover)
        .split("\n")
        .filter((l) => l.startsWith("add chain inet gatehouse nat_"))
        .sort();
    expect(actions(reversed)).toEqual(actions(spec));
    expect(text).toContain(`0x${(1 << MARK_ACTION_SHIFT).toString(16).padStart(8, "0")} : goto nat_1`);
  });

  it("writes each rule's slot into the connection mark where it decides, and counts the rule by it", () => {
    const spec = officeSpec();
    const t = renderRuleset(spec, noFailover);
    const first = spec.entries[0];
    const slot = ruleSlotMark(ruleSlotOf(first?.ruleSeq ?? -1));
    const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
    // the entry that decides the connection names its rule in the connection mark
    expect(t).toMatch(new RegExp(` ct mark set ct mark & 0xf0000fff \\| ${hex(slot)} goto`));
    expect(t).not.toContain("counter name");
    // the outcome chains keep that slot; the NAT chain reads the action from the packet mark
    for (const line of t
      .split("\n")
      .filter((l) => l.includes("ct mark set ct mark &") && !l.includes("& 0xf0000fff"))) {
      if (line.includes("0xf0000000")) continue; // the failed reroute check clears Gatehouse's bits
      expect(line).toContain("& 0xfffff000 |");
    }
    expect(t).toContain("meta mark & 0x0ffff000 vmap @nat_actions");
    // the count chain: first packets move the connections element, every packet the traffic one
    const rs = parseRuleset(t);
    expect(rs.chains.get("count_traffic")?.rules).toEqual([
      "ct mark & 0x08000000 != 0 ct status ! confirmed update @rule_hits { ct mark & 0x0ffff000 | 0x00000001 }",
      "ct mark & 0x08000000 != 0 update @rule_hits { ct mark & 0x0ffff000 }",
    ]);
    // the datapath adds the elements: the load adds none, and says which rule a key counts only to the agent
    expect(rs.elements.get("rule_hits") ?? []).toEqual([]);
    expect(renderNft(spec, noFailover).ruleCounts).toEqual(
      expect.arrayContaining([{ key: slot, ruleId: first?.ruleId }]),
    );
    expect(t).toContain("add set inet gatehouse rule_hits { type mark; size 65536; flags dynamic; counter;");
    // a dropped first packet never reaches the count chain: the drop chain counts it
    expect(rs.chains.get("drop_rule")?.rules).toEqual([
      "ct mark & 0x08000000 != 0 ct status ! confirmed update @rule_hits { ct mark & 0x0ffff000 | 0x00000001 }",
      "counter drop",
    ]);
  });

  it("gives two rules whose creation numbers share a slot one set of counters, the older rule's", () => {
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2")],
      pools: [pool("pa", "a", ["198.51.100.10"])],
      entries: [
        { ...entry("100.64.1.0/24", { snat: "pa" }, { ruleId: "new" }), ruleSeq: 32_768 },
        { ...entry("100.64.2.0/24", { snat: "pa" }, { ruleId: "old" }), ruleSeq: 1 },
      ],
    });
    const r = renderNft(spec, noFailover);
    expect(ruleSlotOf(32_768)).toBe(ruleSlotOf(1));
    // never a small number: that is what an older agent left in the mark (a NAT action)
    expect(ruleSlotOf(0)).toBe(0x8000);
    expect(r.ruleCounts).toEqual([
      { key: 0x08001000, ruleId: "old" },
      { key: 0x08001001, ruleId: "old" },
    ]);
    expect(r.text).not.toContain(`comment "new"`);
    // a spec from before creation numbers: nothing is counted, and there is no count chain
    const old = { ...spec, entries: spec.entries.map(({ ruleSeq: _, ...e }) => e) };
    const o = renderNft(old, noFailover);
    expect(o.ruleCounts).toEqual([]);
    expect(o.text).not.toContain("rule_hits");
    expect(o.text).not.toContain("count_traffic");
  });

  it("stamps the ruleset with a fingerprint that changes with the content", () => {
    const a = renderNft(officeSpec(), noFailover);
    const b = renderNft(officeSpec(), new Map([["a", "b"]]));
    expect(a.text.trimEnd().split("\n").at(-1)).toBe(
      `add element inet gatehouse applied { 0x${a.fingerprint.toString(16).padStart(8, "0")} }`,
    );
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(renderNft(officeSpec(), noFailover).fingerprint).toBe(a.fingerprint);
  });

  it("puts the ISP interfaces in the guard's set", () => {
    expect(text).toContain('add element inet gatehouse_guard isp_ifaces { "ispa", "ispb", "ispc" }');
    expect(text).toMatch(/ct status & snat == 0 ct mark & 0x00000200 == 0/);
  });

  it("tells ISPs on one interface apart by next hop, and masquerades to an interface-address pool", () => {
    const spec = gatewaySpec({
      isps: [isp("a", 1, "up0", "100.65.1.2"), isp("b", 2, "up0", "100.65.1.3", [{ ispId: "a", defaultPoolId: null }])],
      pools: [
        pool("pa", "a", ["198.51.100.10"]),
        { ...pool("pm", "b", [], { from: 2000, to: 2999 }), mode: "interface" },
      ],
      entries: [
        entry("100.64.0.0/10", { snat: "pa" }, { egress: "a" }),
        entry("100.64.0.0/10", { snat: "pm" }, { egress: "b" }),
      ],
    });
    const text = renderRuleset(spec, new Map([["b", "a"]]));
    expect(text).toContain('add element inet gatehouse egress_isp { "up0" : goto by_nexthop_1 }');
    expect(text).toContain("rt ip nexthop vmap { 100.65.1.2 : goto routed_1, 100.65.1.3 : goto routed_2 }");
    expect(text).toContain('oifname "up0" rt ip nexthop 100.65.1.3 accept');
    // the interface-only lookup before routing cannot name either ISP
    expect(text).not.toMatch(/pre_routed_isp \{ "up0"/);
    expect(text).toContain('meta l4proto { tcp, udp } masquerade to :2000-2999 comment "pool pm by sh"');
    expect(text).not.toContain("add map inet gatehouse pool_2 ");
    expect(text).toContain('isp_ifaces { "up0" }');
  });

  it("refuses specs it cannot render faithfully", () => {
    const twoOnOne = officeSpec();
    // two ISPs may share an interface, but not an interface and a next hop
    Object.assign(twoOnOne.isps[1] as object, { interface: "ispa", nextHop: twoOnOne.isps[0]?.nextHop });
    expect(() => renderRuleset(twoOnOne, noFailover)).toThrow(RenderError);
    const badPool = officeSpec();
    badPool.entries[0] = { ...(badPool.entries[0] as GatewaySpec["entries"][number]), fallbackPoolId: "nope" };
    expect(() => renderRuleset(badPool, new Map([["a", "b"]]))).toThrow(/pool nope/);
    const badRedirect = officeSpec();
    badRedirect.entries[3] = { ...(badRedirect.entries[3] as GatewaySpec["entries"][number]), redirectIspId: "zz" };
    expect(() => renderRuleset(badRedirect, noFailover)).toThrow(/redirects to ISP zz/);
  });

  it("leaves out entries whose egress ISP is not in the spec (they can never match)", () => {
    const spec = campusSpec();
    spec.entries = [{ ...(spec.entries[0] as GatewaySpec["entries"][number]), egressIspId: "gone" }];
    expect(renderRuleset(spec, noFailover)).not.toContain("add element inet gatehouse by_source");
  });
});

describe("scale", () => {
  /** n rules, each a distinct /27 under 100.96.0.0/11, cycling over pools, algorithms and destinations. */
  function bigSpec(n: number): GatewaySpec {
    const algorithms = ["sh", "sdh", "sdph", "rr", "random"] as const;
    return gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2"), isp("b", 2, "ispb", "100.65.2.2")],
      pools: [pool("pa", "a", ["198.51.100.10", "198.51.100.11"]), pool("pb", "b", ["198.51.100.130"])],
      entries: [
        ...Array.from({ length: n }, (_, i) => {
          const base = (100 << 24) + (96 << 16) + i * 32;
          const src = `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/27`;
          return entry(
            src,
            { snat: i % 3 === 0 ? "pb" : "pa", algorithm: algorithms[i % 5] },
            { destination: i % 4 === 0 ? "203.0.113.0/24" : null },
          );
        }),
        entry("100.64.0.0/10", { snat: "pa", algorithm: "sh" }),
      ],
    });
  }

  it("renders 10000 rules quickly into one map lookup and short chains", () => {
    const started = performance.now();
    const r = renderNft(bigSpec(10_000), noFailover);
    const elapsed = performance.now() - started;
    // only a guard against a blow-up; bench/datapath.ts measures speed
    expect(elapsed).toBeLessThan(10_000);
    const rs = parseRuleset(r.text);
    const elements = rs.elements.get("by_source") ?? [];
    expect(elements.length).toBeLessThanOrEqual(2 * 10_000 + 1);
    const rules = [...rs.chains.values()].reduce((n, c) => n + c.rules.length, 0);
    // each rule counts in its own place, so chains are shared only where the rules are the same:
    // about one rule per entry, plus a goto per segment whose entries go on in another chain
    expect(rules).toBeLessThan(1.5 * 10_000);
    // a connections counter and a traffic counter per rule
    expect(r.ruleCounts).toHaveLength(2 * 10_001);
    for (const c of rs.chains.values()) if (c.name.startsWith("src_")) expect(c.rules.length).toBeLessThanOrEqual(3);
  });

  it("runs entries for every source that precede the rest once, not in every source chain", () => {
    const spec = bigSpec(500);
    spec.entries.unshift(
      {
        ...(entry("0.0.0.0/0", "exclude", { destination: "10.0.0.0/8" }) as GatewaySpec["entries"][number]),
        rulePosition: 1,
      },
      {
        ...(entry("0.0.0.0/0", "drop", { destination: "192.168.0.0/16" }) as GatewaySpec["entries"][number]),
        rulePosition: 1,
      },
    );
    const rs = parseRuleset(renderRuleset(spec, noFailover));
    const all = [...rs.chains.values()].flatMap((c) => c.rules);
    expect(all.filter((r) => r.startsWith("ip daddr 10.0.0.0/8 "))).toHaveLength(1);
    const leading = rs.chains.get("leading_rules")?.rules ?? [];
    expect(leading).toHaveLength(2);
    expect(leading[0]).toMatch(/^ip daddr 10\.0\.0\.0\/8 (ct mark set \S+ & \S+ \| \S+ )?goto act_\d+$/);
    expect(leading[1]).toMatch(/^ip daddr 192\.168\.0\.0\/16 (ct mark set \S+ & \S+ \| \S+ )?goto drop_rule$/);
    expect(rs.chains.get("routed_1")?.rules[1]).toBe("jump leading_rules");
  });

  it("keeps chain nesting within the kernel's limit however deep the tails", () => {
    // 30 nested prefixes, each with a rule only its own addresses see: every segment is a tail
    const entries = Array.from({ length: 30 }, (_, k) => {
      const len = 32 - k;
      const size = 2 ** (32 - len);
      const base = (100 << 24) + (64 << 16);
      const start = base - (base % size);
      const src = `${start >>> 24}.${(start >>> 16) & 255}.${(start >>> 8) & 255}.${start & 255}/${len}`;
      return entry(src, k % 2 === 0 ? "exclude" : { snat: "pa" }, { destination: `203.0.113.${k}/32` });
    });
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2")],
      pools: [pool("pa", "a", ["198.51.100.10"])],
      entries,
    });
    const rs = parseRuleset(renderRuleset(spec, noFailover));
    const depth = (name: string, seen: number): number => {
      const c = rs.chains.get(name);
      const next = c?.rules.map((r) => /goto (src_\d+)$/.exec(r)?.[1]).find((x) => x !== undefined);
      return next === undefined ? seen : depth(next, seen + 1);
    };
    for (const name of rs.chains.keys()) if (name.startsWith("src_")) expect(depth(name, 1)).toBeLessThanOrEqual(8);
  });
});

import type { FailoverState } from "../spec/decide";
import {
  GH_MASK,
  MARK_ACTION_MASK,
  MARK_EXCLUDE,
  MARK_ISP_MASK,
  MARK_REROUTE,
  MARK_RULE_SLOT_MASK,
  MARK_RULE_SLOT_PRESENT,
  MAX_RULE_SLOTS,
  RULE_COUNT_CONNECTIONS,
  MARK_VS_DR,
  ruleSlotMark,
  ruleSlotOf,
} from "../spec/marks";
import { criteriaOf, formatPortSpan, portSpans } from "../policy/match-criteria";
import type { GatewaySpec, SpecEntry, SpecIsp } from "../spec/schema";
import { cidrRange, formatRange, netmask, type Range, rangeToBlocks, segmentByCover, unionRanges } from "./intervals";
import {
  ARP_CHAIN_IN,
  ARP_CHAIN_OUT,
  ARP_SET_ANSWERED,
  ARP_SET_ASKED,
  ARP_TABLE,
  actionChain,
  byNextHopChain,
  CHAIN_CLASSIFY,
  CHAIN_DROP_RULE,
  CHAIN_DROP_UNMATCHED,
  CHAIN_LEADING,
  CHAIN_MISROUTED,
  CHAIN_POSTROUTING,
  CHAIN_PRE_PASS,
  CHAIN_PREROUTING,
  CHAIN_RULE_TRAFFIC,
  CHAIN_VERIFY,
  CLASSIFY_PRIORITY,
  GUARD_CHAIN,
  GUARD_FORWARD_CHAIN,
  GUARD_PRIORITY,
  GUARD_SET_ISP_IFACES,
  GUARD_SET_LAN_IFACES,
  GUARD_SET_PERMITTED_IFACES,
  GUARD_TABLE,
  MAP_BY_SOURCE,
  MAP_NAT_ACTIONS,
  MAP_PRE_BY_SOURCE,
  MAP_PRE_ROUTED_ISP,
  MAP_REROUTE_RESTORE,
  MAP_ROUTED_ISP,
  misrouteChain,
  natChain,
  outcomeChain,
  POLICY_TABLE,
  PRE_CHAIN_LEADING,
  poolMap,
  preRoutedChain,
  preSourceChain,
  preSourceTierMap,
  restoreChain,
  retryOtherSet,
  retrySet,
  RULE_TRAFFIC_PRIORITY,
  routedChain,
  isLegacyRuleCounter,
  SET_APPLIED,
  SET_ISP_IFACES,
  SET_RULE_HITS,
  sourceChain,
  sourceTierMap,
} from "./names";
import {
  type NatAction,
  type Outcome,
  type Plan,
  type PlannedEntry,
  planReroutes,
  planSpec,
  type Target,
} from "./plan";
import { shareChains } from "./shared-chains";
import { sharedInterfaces } from "./shared-interfaces";
import { virtualServiceObjects } from "./virtual-services";

/**
 * Renders a GatewaySpec into one nft file that replaces Gatehouse's policy table in a single
 * transaction (docs/semantics.md, docs/datapath-facts.md):
 *
 * - the table is never deleted: the file flushes its rules and every map it owns, deletes the
 *   chains and maps that are gone, and defines everything again, so no packet ever sees a
 *   half-built table;
 * - only a connection's first packet is classified, after routing (postrouting), by the interface
 *   it really leaves by: the ECMP hash, the operator's ip rules and the main table have all had
 *   their say; the result lives in the conntrack mark;
 * - a reroute (redirect, failover) must be chosen before routing: when the policy has any, the
 *   same entries also run in prerouting on the ISP the lookup `fib daddr . mark oifname` reports,
 *   and only reroutes are acted on there. After routing, a rerouted packet must leave by the ISP
 *   Gatehouse chose (else an operator rule overrode it: dropped and counted), and a packet the
 *   lookup misjudged (ECMP, iif rules) that needed a reroute is dropped once and remembered with
 *   its real ISP, so its retransmission is rerouted (docs/semantics.md);
 * - new connections are matched by one interval-map lookup on the source address into a chain
 *   holding only the entries whose source covers that address, in spec order;
 * - SNAT happens in postrouting by the action number in the first packet's mark; the connection
 *   mark holds the rule slot by which its first packet moves its rule's connection counter and
 *   every packet its traffic counter (elements of one dynamic counter-flagged set);
 * - a small permanent guard table drops LAN connections that would leave an ISP un-NATed.
 */

/**
 * Chains, maps and sets found in the policy table before this load (from `nft list`); undefined
 * when the table does not exist yet.
 */
export interface ExistingObjects {
  chains: readonly string[];
  maps: readonly string[];
  sets: readonly string[];
  /** named counters (legacy per-rule counters to delete); absent: none known */
  counters?: readonly string[];
  /**
   * which rule each counter key stood for in the ruleset loaded before (the agent keeps it from
   * its last load); absent: not known, and the counter set is emptied, since a slot may belong to
   * another rule now
   */
  ruleCounts?: readonly RuleCountElement[];
}

/** A key of the rules' counter set (marks.ts, RULE_COUNT_CONNECTIONS) and the rule it counts. */
export interface RuleCountElement {
  key: number;
  ruleId: string;
}

export interface RenderedRuleset {
  text: string;
  /** stored in the `applied` set, so the agent can tell its ruleset was loaded */
  fingerprint: number;
  chains: string[];
  maps: string[];
  sets: string[];
  /** the keys of the rules' counter set and their rules: two per counted rule */
  ruleCounts: RuleCountElement[];
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
const KEEP = hex(~GH_MASK >>> 0);
const quote = (s: string) => `"${s}"`;

/** Comments hold operator names (zName: letters, digits, space . _ -); nft caps comments at 128 bytes. */
function comment(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9 ._:/>,()-]/g, "_");
  return `comment ${quote(safe.length > 120 ? `${safe.slice(0, 117)}...` : safe)}`;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

interface Chain {
  name: string;
  comment: string;
  /** for base chains: "type ... hook ... priority ...; policy accept;" */
  hook?: string;
  rules: string[];
}

interface NamedMap {
  name: string;
  kind: "map" | "set";
  declaration: string;
  comment: string;
  elements: string[];
  /** elements the datapath adds itself (DR flow tables): kept across reloads, never flushed */
  keep?: boolean;
}

class Builder {
  chains: Chain[] = [];
  maps: NamedMap[] = [];
  private outcomes = new Map<number, string>();
  private actions = new Map<string, string>();
  /** interfaces several ISPs leave by: their connections keep to their ISP's table (below) */
  private readonly shared: Set<string>;
  /** each traffic-counted rule's slot in the connection mark (ruleSlots) */
  readonly slots: Map<string, number>;

  constructor(
    readonly spec: GatewaySpec,
    readonly plan: Plan,
    readonly ruleCounters = true,
  ) {
    this.shared = sharedInterfaces(plan.isps);
    this.slots = ruleCounters ? ruleSlots(plan) : new Map();
  }

  chain(name: string, text: string, rules: string[] = [], hook?: string): Chain {
    const c: Chain = { name, comment: text, rules, hook };
    this.chains.push(c);
    return c;
  }

  map(kind: "map" | "set", name: string, declaration: string, text: string, elements: string[] = []): NamedMap {
    const m: NamedMap = { name, kind, declaration, comment: text, elements };
    this.maps.push(m);
    return m;
  }

  outcome(o: Outcome): string {
    const known = this.outcomes.get(o.mark);
    if (known !== undefined) return known;
    const name = outcomeChain(this.outcomes.size + 1);
    this.outcomes.set(o.mark, name);
    const parts = [`via ${o.isp.name}`];
    if (o.failedOverFrom !== null) parts.push(`failed over from ${o.failedOverFrom.name}`);
    else if (o.reroute) parts.push("redirected");
    parts.push(o.nat === null ? "no NAT" : `SNAT ${o.nat.pool.name} ${o.nat.algorithm}`);
    // On an interface ISPs share, routing's ECMP choice of next hop can differ between packets of
    // one connection (the hash of a later packet may come from another source): the connection
    // keeps to its ISP's routing table from its second packet on, as a rerouted one does.
    const ctMark = (this.shared.has(o.isp.interface) ? o.mark | MARK_REROUTE : o.mark) & ~MARK_RULE_SLOT_MASK;
    this.chain(name, "an outcome of the classifier", [
      // the packet mark carries the NAT action to the NAT chain; the connection mark keeps the
      // rule slot the entry wrote in the same bits
      `meta mark set meta mark & ${KEEP} | ${hex(o.mark)}`,
      `ct mark set ct mark & ${hex(~(GH_MASK & ~MARK_RULE_SLOT_MASK))} | ${hex(ctMark)}`,
      `counter accept ${comment(parts.join(", "))}`,
    ]);
    return name;
  }

  /**
   * The verdict an entry (or the unmatched case) ends in. Before routing only reroutes are acted
   * on; after routing a reroute means the lookup misjudged the route (misrouted).
   */
  verdict(t: Target, stage: Stage, drop: string = CHAIN_DROP_RULE): string {
    const of = (o: Outcome) => {
      if (stage === "pre") return o.reroute ? `goto ${this.outcome(o)}` : `goto ${CHAIN_PRE_PASS}`;
      return o.reroute ? `goto ${CHAIN_MISROUTED}` : `goto ${this.outcome(o)}`;
    };
    if (t.kind === "drop") return stage === "pre" ? `goto ${CHAIN_PRE_PASS}` : `goto ${drop}`;
    if (t.kind === "outcome") return of(t.outcome);
    const verdicts = t.outcomes.map((x) => of(x.outcome));
    if (verdicts.every((v) => v === verdicts[0]) && verdicts[0] !== undefined) return verdicts[0];
    const arms = t.outcomes.map((x, i) => `${hex(x.routed.index)} : ${verdicts[i]}`);
    const body = `meta mark & ${hex(MARK_ISP_MASK)} vmap { ${arms.join(", ")} }`;
    let name = this.actions.get(body);
    if (name === undefined) {
      name = actionChain(this.actions.size + 1);
      this.actions.set(body, name);
      this.chain(name, "outcome by the ISP routing picked", [body]);
    }
    return `goto ${name}`;
  }
}

type Stage = "pre" | "post";

interface RuleItem {
  dst: Range[] | null;
  protocol: string;
  /** the further criteria, already in nft's words ("" when unset): compared as text when merging */
  criteria: string;
  egress: number | null;
  verdict: string;
  /** the rule's slot in the connection mark (its counters); null: not counted */
  slot: number | null;
  /** whether this stage counts the connection: always, never, or only for these routed ISPs */
  counts: Counting;
}

type Counting = "all" | "none" | number[];

/**
 * Where a rule's slot is written into the connection mark (which makes the count chain count the
 * connection for it): at the stage whose decision is final for it, so each connection counts once
 * and for the rule that decided it. Before routing that is a reroute (the classifier after routing
 * then only verifies it); after routing everything else. A connection dropped as misrouted is
 * counted on its retransmission, which is rerouted before routing.
 */
function countingOf(t: Target, stage: Stage): Counting {
  const final = (o: Outcome) => (stage === "pre" ? o.reroute : !o.reroute);
  if (t.kind === "drop") return stage === "post" ? "all" : "none";
  if (t.kind === "outcome") return final(t.outcome) ? "all" : "none";
  const isps = t.outcomes.filter((x) => final(x.outcome)).map((x) => x.routed.index);
  if (isps.length === t.outcomes.length) return "all";
  return isps.length === 0 ? "none" : isps;
}

const oneOrSet = (items: string[]) => (items.length === 1 ? (items[0] as string) : `{ ${items.join(", ")} }`);

/**
 * Destination ports, input interfaces and the operator's mark. The mark is read under the
 * operator's mask, which the policy keeps clear of the bits Gatehouse writes (GH_MASK), so the
 * ISP number the routed chains put into the mark before the entries run never hides it.
 */
function criteriaText(entry: SpecEntry): string {
  const e = criteriaOf(entry);
  const parts: string[] = [];
  if (e.dstPorts.length > 0) {
    // ports exist only for tcp and udp; the policy checks say so, the datapath makes sure
    if (entry.protocol !== "tcp" && entry.protocol !== "udp") parts.push("meta l4proto { tcp, udp }");
    parts.push(`th dport ${oneOrSet(portSpans(e.dstPorts).map((p) => formatPortSpan(p)))}`);
  }
  if (e.inInterfaces.length > 0) parts.push(`iifname ${oneOrSet([...e.inInterfaces].sort().map(quote))}`);
  if (e.fwmark !== null) parts.push(`meta mark & ${hex(e.fwmark.mask)} == ${hex(e.fwmark.value)}`);
  return parts.join(" ");
}

function itemText(item: RuleItem): string[] {
  const parts: string[] = [];
  if (item.dst !== null) {
    const ranges = item.dst.map(formatRange);
    parts.push(ranges.length === 1 ? `ip daddr ${ranges[0]}` : `ip daddr { ${ranges.join(", ")} }`);
  }
  if (item.protocol !== "any") parts.push(`meta l4proto ${item.protocol}`);
  if (item.criteria !== "") parts.push(item.criteria);
  if (item.egress !== null) parts.push(`meta mark & ${hex(MARK_ISP_MASK)} == ${hex(item.egress)}`);
  // the slot is written by the stage that decides the connection; the count chain counts it
  if (item.slot === null || item.counts === "none") return [[...parts, item.verdict].join(" ")];
  const slot = `ct mark set ct mark & ${hex(~MARK_RULE_SLOT_MASK)} | ${hex(ruleSlotMark(item.slot))}`;
  if (item.counts === "all") return [[...parts, slot, item.verdict].join(" ")];
  // only some ISPs' connections are decided here (a failover of one of them): a marking rule
  // with the same match comes first and lets the packet go on to the rule that decides it
  const isps = `meta mark & ${hex(MARK_ISP_MASK)} { ${item.counts.map(hex).join(", ")} }`;
  return [[...parts, isps, slot].join(" "), [...parts, item.verdict].join(" ")];
}

const sameCounting = (a: Counting, b: Counting) =>
  typeof a === "string" || typeof b === "string" ? a === b : a.join() === b.join();

/** Consecutive entries that differ only in destination decide alike: one rule with a set. */
function compactRules(items: RuleItem[]): string[] {
  const merged: RuleItem[] = [];
  for (const item of items) {
    const last = merged[merged.length - 1];
    if (
      last !== undefined &&
      last.dst !== null &&
      item.dst !== null &&
      last.protocol === item.protocol &&
      last.criteria === item.criteria &&
      last.egress === item.egress &&
      last.verdict === item.verdict &&
      last.slot === item.slot &&
      sameCounting(last.counts, item.counts)
    ) {
      last.dst = unionRanges([...last.dst, ...item.dst]);
      continue;
    }
    merged.push({ ...item, dst: item.dst === null ? null : [...item.dst] });
    // a rule with no condition decides every packet that reaches it: the rest is dead
    if (item.dst === null && item.protocol === "any" && item.criteria === "" && item.egress === null) break;
  }
  return merged.flatMap(itemText);
}

/** Builds the entry chains of one stage; returns the source lookups its routed chains run. */
function renderClassifier(b: Builder, stage: Stage): string[] {
  const { plan } = b;
  const entryVerdicts = new Map<PlannedEntry, RuleItem>();
  for (const e of plan.entries) {
    entryVerdicts.set(e, {
      dst: e.entry.destination === null ? null : [cidrRange(e.entry.destination)],
      protocol: e.entry.protocol,
      criteria: criteriaText(e.entry),
      egress: e.egress?.index ?? null,
      verdict: b.verdict(e.target, stage),
      slot: b.slots.get(e.entry.ruleId) ?? null,
      counts: countingOf(e.target, stage),
    });
  }
  // entries for every source that come before all others (a pinned "never NAT 10.0.0.0/8", say)
  // would sit at the head of every segment's chain: they run once, before the lookup, instead
  const firstSpecific = plan.entries.findIndex(
    (e) => cidrRange(e.entry.source).end - cidrRange(e.entry.source).start !== 0xffffffff,
  );
  const leadingCount = firstSpecific < 0 ? plan.entries.length : firstSpecific;
  const leading = compactRules(plan.entries.slice(0, leadingCount).map((e) => entryVerdicts.get(e) as RuleItem));
  const segments = segmentByCover(plan.entries.slice(leadingCount), (e) => cidrRange(e.entry.source));
  const lists = segments.map((s) => compactRules(s.covering.map((e) => entryVerdicts.get(e) as RuleItem)));
  const shared = shareChains(lists, stage === "pre" ? preSourceChain : sourceChain);
  for (const c of shared.chains) {
    const rules = c.next === null ? c.rules : [...c.rules, `goto ${c.next}`];
    b.chain(c.name, "entries for a range of sources, in order", rules);
  }
  // adjacent segments that jump to the same chain become one range
  const ranges: Array<{ range: Range; chain: string }> = [];
  segments.forEach((s, i) => {
    const chain = shared.entryChain[i];
    if (chain === null || chain === undefined) return;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.chain === chain && last.range.end + 1 === s.start) last.range.end = s.end;
    else ranges.push({ range: { start: s.start, end: s.end }, chain });
  });
  const lookups = renderSourceMaps(b, ranges, stage);
  if (leading.length > 0) {
    const name = stage === "pre" ? PRE_CHAIN_LEADING : CHAIN_LEADING;
    b.chain(name, "entries for any source that precede all others", leading);
    lookups.unshift(`jump ${name}`);
  }
  return lookups;
}

/** A prefix length with at least this many networks gets its own hash map. */
const TIER_MIN_BLOCKS = 16;
const MAX_TIERS = 4;

/**
 * The source lookup. Interval maps are slow to load (10000 elements take ~0.1 s in nft 1.0.6,
 * mostly in userspace), hash maps fast, so ranges are cut into networks and the prefix lengths
 * that hold many of them get a hash map keyed on the masked source; the rest stays in one
 * interval map. The networks never overlap, so an address is in at most one map and the order
 * of the lookups does not matter.
 */
function renderSourceMaps(b: Builder, ranges: Array<{ range: Range; chain: string }>, stage: Stage): string[] {
  const blocks = ranges.flatMap((r) => rangeToBlocks(r.range).map((block) => ({ ...block, chain: r.chain })));
  const perPrefix = new Map<number, number>();
  for (const x of blocks) perPrefix.set(x.prefix, (perPrefix.get(x.prefix) ?? 0) + 1);
  const tiers = [...perPrefix.entries()]
    .filter(([, n]) => n >= TIER_MIN_BLOCKS)
    .sort((x, y) => y[1] - x[1] || y[0] - x[0])
    .slice(0, MAX_TIERS)
    .map(([prefix]) => prefix);
  const lookups: string[] = [];
  for (const prefix of tiers) {
    const name = stage === "pre" ? preSourceTierMap(prefix) : sourceTierMap(prefix);
    const elements = blocks
      .filter((x) => x.prefix === prefix)
      .map((x) => `${formatRange({ start: x.start, end: x.start })} : jump ${x.chain}`);
    b.map("map", name, "type ipv4_addr : verdict;", `source /${prefix} network to the entries that cover it`, elements);
    lookups.push(`ip saddr & ${netmask(prefix)} vmap @${name}`);
  }
  // what no hash map took, joined back into ranges
  const rest: Array<{ range: Range; chain: string }> = [];
  for (const x of blocks) {
    if (tiers.includes(x.prefix)) continue;
    const end = x.start + 2 ** (32 - x.prefix) - 1;
    const last = rest[rest.length - 1];
    if (last !== undefined && last.chain === x.chain && last.range.end + 1 === x.start) last.range.end = end;
    else rest.push({ range: { start: x.start, end }, chain: x.chain });
  }
  const bySource = stage === "pre" ? MAP_PRE_BY_SOURCE : MAP_BY_SOURCE;
  b.map(
    "map",
    bySource,
    "type ipv4_addr : verdict; flags interval;",
    stage === "pre"
      ? "source address to the entries that cover it, before routing"
      : "source address to the entries that cover it",
    rest.map((r) => `${formatRange(r.range)} : jump ${r.chain}`),
  );
  lookups.push(`ip saddr vmap @${bySource}`);
  return lookups;
}

function snatRules(action: NatAction, seed: number): string[] {
  const range = action.pool.portRange;
  // an interface-address pool: the address the interface has when the connection starts (DHCP
  // and PPPoE changes included); the kernel drops masqueraded connections when it loses that address
  if (action.pool.mode === "interface") {
    if (range === null) return ["masquerade"];
    // port ranges only exist for tcp and udp
    return [`meta l4proto { tcp, udp } masquerade to :${range.from}-${range.to}`, "masquerade"];
  }
  const n = action.pool.addresses.length;
  const map = `map @${poolMap(action.poolNumber)}`;
  const hash = (key: string) => `jhash ${key} mod ${n} seed ${hex(seed)}`;
  const sh = hash("ip saddr");
  const sdh = hash("ip saddr . ip daddr");
  const sdph = hash("ip saddr . ip daddr . meta l4proto . th sport . th dport");
  const byAlgorithm = {
    sh: [sh, sh],
    sdh: [sdh, sdh],
    // the 5-tuple hash needs ports: other protocols hash like sdh (evaluate.ts pickAddress)
    sdph: [sdph, sdh],
    random: [`numgen random mod ${n}`, `numgen random mod ${n}`],
    rr: [`numgen inc mod ${n}`, `numgen inc mod ${n}`],
  } as const;
  const [withPorts, other] = byAlgorithm[action.algorithm];
  const ports = range === null ? "" : ` : ${range.from}-${range.to}`;
  if (withPorts === other && ports === "") return [`snat ip to ${other} ${map}`];
  // port ranges only exist for tcp and udp
  return [`meta l4proto { tcp, udp } snat ip to ${withPorts} ${map}${ports}`, `snat ip to ${other} ${map}`];
}

function renderNat(b: Builder): void {
  const { plan, spec } = b;
  const pools = new Map<number, NatAction["pool"]>();
  const elements: string[] = [];
  for (const a of plan.natActions) {
    pools.set(a.poolNumber, a.pool);
    const name = natChain(a.number);
    const why = comment(`pool ${a.pool.name} by ${a.algorithm}`);
    b.chain(
      name,
      "an SNAT action",
      snatRules(a, spec.settings.hashSeed).map((r) => `${r} ${why}`),
    );
    elements.push(`${hex((a.number << 12) & MARK_ACTION_MASK)} : goto ${name}`);
  }
  b.map(
    "map",
    MAP_NAT_ACTIONS,
    "type mark : verdict;",
    "NAT action number in the first packet mark to its chain",
    elements,
  );
  for (const [number, pool] of [...pools.entries()].sort((x, y) => x[0] - y[0])) {
    if (pool.mode === "interface") continue;
    // bucket i is pool.addresses[i]: the order the console's pickAddress uses
    b.map(
      "map",
      poolMap(number),
      "typeof numgen inc mod 65536 : ip saddr;",
      "SNAT address by hash bucket (the pool is named in the nat rules)",
      pool.addresses.map((addr, i) => `${i} : ${addr}`),
    );
  }
}

/** How long the gateway remembers where routing really sent a misjudged connection. */
const RETRY_TIMEOUT = "15s";
const FIVE_TUPLE = "ip saddr . ip daddr . meta l4proto . th sport . th dport";
const THREE_TUPLE = "ip saddr . ip daddr . meta l4proto";

function build(
  spec: GatewaySpec,
  failover: FailoverState,
  vsDown: ReadonlySet<string>,
  ruleCounters: boolean,
): Builder {
  const plan = planSpec(spec, failover);
  const b = new Builder(spec, plan, ruleCounters);
  const rerouteMask = hex(MARK_REROUTE | MARK_ISP_MASK);
  // without redirects or failovers nothing needs deciding before routing
  const rerouting = planReroutes(plan);
  const pre = b.chain(
    CHAIN_PREROUTING,
    "reroute (redirect, failover) new connections before routing",
    [
      // later packets: only the reroute decision is needed again, and only on the way out
      `ct status confirmed ct direction original ct mark & ${rerouteMask} vmap @${MAP_REROUTE_RESTORE}`,
      "ct status confirmed accept",
    ],
    "type filter hook prerouting priority mangle; policy accept;",
  );
  if (rerouting) {
    pre.rules.push(
      "meta nfproto != ipv4 accept",
      // traffic arriving from an ISP is not the LAN's: never reroute it
      `iifname @${SET_ISP_IFACES} accept`,
    );
    // a LAN client's packet to a direct routing service is already routed by its DR mark
    if (spec.virtualServices.some((s) => s.mode === "dr")) {
      pre.rules.push(`meta mark & ${hex(MARK_ISP_MASK | MARK_REROUTE)} == ${hex(MARK_VS_DR)} accept`);
    }
    // a retransmission of a first packet the lookup misjudged: routing's real answer is known
    for (const isp of plan.isps) {
      pre.rules.push(
        `meta l4proto { tcp, udp } ${FIVE_TUPLE} @${retrySet(isp.index)} goto ${preRoutedChain(isp.index)}`,
        `meta l4proto != { tcp, udp } ${THREE_TUPLE} @${retryOtherSet(isp.index)} goto ${preRoutedChain(isp.index)}`,
      );
    }
    // the lookup sees the main table, source and fwmark rules and the first ECMP next hop
    pre.rules.push(`fib daddr . mark oifname vmap @${MAP_PRE_ROUTED_ISP}`);
  }
  const classify = b.chain(
    CHAIN_CLASSIFY,
    "classify the first packet of connections leaving by an ISP",
    [
      "ct status confirmed accept",
      "meta nfproto != ipv4 accept",
      `iifname @${SET_ISP_IFACES} accept`,
      // the gateway's own traffic (probes) is not the LAN's
      "fib saddr type local accept",
    ],
    `type filter hook postrouting priority ${CLASSIFY_PRIORITY}; policy accept;`,
  );
  if (rerouting) classify.rules.push(`meta mark & ${hex(MARK_REROUTE)} == ${hex(MARK_REROUTE)} goto ${CHAIN_VERIFY}`);
  classify.rules.push(`oifname vmap @${MAP_ROUTED_ISP}`);
  b.chain(
    CHAIN_POSTROUTING,
    "SNAT new connections by the NAT action in the first packet mark",
    [`meta mark & ${hex(MARK_ACTION_MASK)} vmap @${MAP_NAT_ACTIONS}`],
    "type nat hook postrouting priority srcnat; policy accept;",
  );
  // a dropped first packet never reaches the count chain: its connection is counted here
  b.chain(CHAIN_DROP_RULE, "dropped by a rule", [...(b.slots.size > 0 ? [COUNT_CONNECTION] : []), "counter drop"]);
  b.chain(CHAIN_DROP_UNMATCHED, "matched no rule", ["counter drop"]);

  const routedElements: string[] = [];
  const shared = sharedInterfaces(plan.isps);
  const byNextHop = new Map<string, string[]>();
  const preRoutedElements: string[] = [];
  const restoreElements: string[] = [];
  const routedChains: Array<{ rules: string[]; unmatched: string; stage: Stage }> = [];
  for (const u of plan.unmatched) {
    const isp = u.routed;
    const routed = b.chain(routedChain(isp.index), `ISP number ${isp.index} is where the packet leaves`, [
      `meta mark set meta mark & ${KEEP} | ${hex(isp.index)} ${comment(`ISP ${isp.name}`)}`,
    ]);
    routedChains.push({
      rules: routed.rules,
      unmatched: b.verdict(u.target, "post", CHAIN_DROP_UNMATCHED),
      stage: "post",
    });
    b.chain(restoreChain(isp.index), `keep routing via ISP number ${isp.index}`, [
      `meta mark set meta mark & ${KEEP} | ${hex(MARK_REROUTE | isp.index)}`,
      "accept",
    ]);
    if (shared.has(isp.interface)) {
      const arms = byNextHop.get(isp.interface) ?? [];
      arms.push(`${isp.nextHop} : goto ${routedChain(isp.index)}`);
      byNextHop.set(isp.interface, arms);
    } else routedElements.push(`${quote(isp.interface)} : goto ${routedChain(isp.index)}`);
    restoreElements.push(`${hex(MARK_REROUTE | isp.index)} : goto ${restoreChain(isp.index)}`);
    if (rerouting) {
      const preRouted = b.chain(preRoutedChain(isp.index), `the lookup says ISP number ${isp.index}`, [
        `meta mark set meta mark & ${KEEP} | ${hex(isp.index)} ${comment(`ISP ${isp.name}`)}`,
      ]);
      routedChains.push({ rules: preRouted.rules, unmatched: b.verdict(u.target, "pre"), stage: "pre" });
      // the lookup reports an interface, not a next hop: a shared interface names no ISP there
      // (its connections are rerouted on their retransmission, as for an ECMP misjudgement)
      if (!shared.has(isp.interface)) {
        preRoutedElements.push(`${quote(isp.interface)} : goto ${preRoutedChain(isp.index)}`);
      }
    }
  }
  for (const [iface, arms] of byNextHop) {
    const first = plan.isps.find((i) => i.interface === iface) as SpecIsp;
    // to the link's own subnet the next hop is the destination itself: no ISP, and the guard
    // drops what the LAN sends there un-NATed
    b.chain(byNextHopChain(first.index), `ISPs sharing interface ${iface}, told apart by next hop`, [
      `rt ip nexthop vmap { ${arms.join(", ")} }`,
    ]);
    routedElements.push(`${quote(iface)} : goto ${byNextHopChain(first.index)}`);
  }
  b.map("set", SET_ISP_IFACES, "type ifname;", "ISP interfaces", [
    ...new Set(plan.isps.map((i) => quote(i.interface))),
  ]);
  b.map(
    "map",
    MAP_ROUTED_ISP,
    "typeof oifname : verdict;",
    "interface the packet leaves by to its ISP",
    routedElements,
  );
  b.map(
    "map",
    MAP_REROUTE_RESTORE,
    "type mark : verdict;",
    "rerouted connection to its ISP routing table",
    restoreElements,
  );
  if (rerouting) {
    b.map(
      "map",
      MAP_PRE_ROUTED_ISP,
      "typeof fib daddr . mark oifname : verdict;",
      "interface the lookup before routing reports to its ISP",
      preRoutedElements,
    );
    b.chain(CHAIN_PRE_PASS, "no reroute: routing decides", [`meta mark set meta mark & ${KEEP}`, "accept"]);
    const verify = b.chain(
      CHAIN_VERIFY,
      "a rerouted packet must leave by the ISP Gatehouse chose",
      plan.isps.map(
        (isp) =>
          `meta mark & ${rerouteMask} == ${hex(MARK_REROUTE | isp.index)} oifname ${quote(isp.interface)}${
            shared.has(isp.interface) ? ` rt ip nexthop ${isp.nextHop}` : ""
          } accept`,
      ),
    );
    verify.rules.push(
      `meta mark set meta mark & ${KEEP}`,
      `ct mark set ct mark & ${KEEP}`,
      `counter drop ${comment("an ip rule outside Gatehouse overrode the reroute")}`,
    );
    b.chain(CHAIN_MISROUTED, "needed a reroute the lookup before routing did not see", [
      `meta mark & ${hex(MARK_ISP_MASK)} vmap { ${plan.isps
        .map((isp) => `${hex(isp.index)} : goto ${misrouteChain(isp.index)}`)
        .join(", ")} }`,
    ]);
    for (const isp of plan.isps) {
      const why = comment(`routing sent it via ${isp.name}: its retransmission is rerouted`);
      b.chain(misrouteChain(isp.index), `misjudged connections routing sent via ISP number ${isp.index}`, [
        `meta l4proto { tcp, udp } add @${retrySet(isp.index)} { ${FIVE_TUPLE} } counter drop ${why}`,
        `add @${retryOtherSet(isp.index)} { ${THREE_TUPLE} } counter drop ${why}`,
      ]);
      const flags = `flags dynamic,timeout; timeout ${RETRY_TIMEOUT}; size 65536;`;
      b.map(
        "set",
        retrySet(isp.index),
        `type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service; ${flags}`,
        `tcp/udp connections routing really sent via ISP number ${isp.index}`,
      );
      b.map(
        "set",
        retryOtherSet(isp.index),
        `type ipv4_addr . ipv4_addr . inet_proto; ${flags}`,
        `other connections routing really sent via ISP number ${isp.index}`,
      );
    }
  }
  const postLookups = renderClassifier(b, "post");
  const preLookups = rerouting ? renderClassifier(b, "pre") : [];
  // the source lookups are known once the classifiers are built
  for (const r of routedChains) r.rules.push(...(r.stage === "pre" ? preLookups : postLookups), r.unmatched);
  renderNat(b);
  renderRuleTraffic(b);
  const vs = virtualServiceObjects(spec, vsDown);
  for (const c of vs.chains) b.chain(c.name, c.comment, c.rules, c.hook);
  for (const m of vs.maps) b.map(m.kind, m.name, m.declaration, m.comment, m.elements).keep = m.keep;
  return b;
}

/**
 * The rules' slots (marks.ts, ruleSlotOf): from their creation numbers, so every gateway and every
 * reload agrees. Rules from a spec without those numbers (a console from before them), and the
 * later of two rules that share a slot, are not counted.
 */
function ruleSlots(plan: Plan): Map<string, number> {
  const seqs = new Map<string, number>();
  for (const e of plan.entries) if (e.entry.ruleSeq !== undefined) seqs.set(e.entry.ruleId, e.entry.ruleSeq);
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const [ruleId, seq] of [...seqs].sort((a, b) => a[1] - b[1])) {
    const slot = ruleSlotOf(seq);
    if (taken.has(slot)) continue;
    taken.add(slot);
    out.set(ruleId, slot);
  }
  return out;
}

/**
 * The rules' counters are the elements of one dynamic, counter-flagged set, keyed by the rule slot
 * in the connection mark: every packet of a rule's connections, both ways, updates the element of
 * the slot's mark (its traffic) and the first packet also the one with RULE_COUNT_CONNECTIONS (its
 * new connections); an update adds the element when it is not there and counts the packet in its
 * per-CPU counter (the set has no timeout: a timeout would be refreshed, a write every CPU shares,
 * with every packet). The agent deletes the elements of rules that did not move for a while
 * (RULE_HIT_IDLE_MS), so the set holds the rules that moved lately, not all of them. The count
 * chain runs after the classifier, so a first packet is counted once its rule wrote the slot; a
 * connection with no slot (unmatched, a virtual service, the gateway's own) updates nothing.
 * Counting changes no decision.
 */
const SLOT = `ct mark & ${hex(MARK_RULE_SLOT_MASK)}`;
const HAS_SLOT = `ct mark & ${hex(MARK_RULE_SLOT_PRESENT)} != 0`;
const COUNT_CONNECTION = `${HAS_SLOT} ct status ! confirmed update @${SET_RULE_HITS} { ${SLOT} | ${hex(RULE_COUNT_CONNECTIONS)} }`;
const COUNT_TRAFFIC = `${HAS_SLOT} update @${SET_RULE_HITS} { ${SLOT} }`;

function renderRuleTraffic(b: Builder): void {
  if (b.slots.size === 0) return;
  b.chain(
    CHAIN_RULE_TRAFFIC,
    "count the new connections and the packets of each rule",
    [COUNT_CONNECTION, COUNT_TRAFFIC],
    `type filter hook postrouting priority ${RULE_TRAFFIC_PRIORITY}; policy accept;`,
  );
}

/** The counter set's keys for the rules' slots: traffic and connections of each. */
export function ruleCountElements(slots: ReadonlyMap<string, number>): RuleCountElement[] {
  return [...slots]
    .sort((x, y) => x[1] - y[1])
    .flatMap(([ruleId, slot]) => [
      { key: ruleSlotMark(slot), ruleId },
      { key: (ruleSlotMark(slot) | RULE_COUNT_CONNECTIONS) >>> 0, ruleId },
    ]);
}

/**
 * The statements that keep the counter set true to the new ruleset: the counters of a slot that
 * now stands for another rule, or for none, are deleted (the datapath starts the slot's counters
 * afresh when its connections move); every other counter stays, also across a `flush table`. A
 * dynamic element may or may not be there, and nft 1.0.6 cannot delete what is not: each is added
 * (which leaves one that is there as it is) and then deleted, in the same transaction. Not knowing
 * what the slots stood for, the whole set is emptied.
 */
function ruleCountStatements(want: RuleCountElement[], have: readonly RuleCountElement[] | undefined): string[] {
  const T = POLICY_TABLE;
  if (have === undefined) return [`flush set ${T} ${SET_RULE_HITS}`];
  const wanted = new Map(want.map((e) => [e.key, e.ruleId]));
  return deleteRuleCounters(have.filter((e) => wanted.get(e.key) !== e.ruleId).map((e) => e.key));
}

/**
 * Deletes these keys' elements from the rules' counter set, whether or not they are there: each is
 * added (which leaves one that is there as it is) and deleted in the same transaction. The agent
 * runs it for rules whose counters stopped moving (RULE_HIT_IDLE_MS), and loads for slots that
 * changed owner.
 */
export function deleteRuleCounters(keys: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    const list = keys
      .slice(i, i + CHUNK)
      .map((k) => hex(k))
      .join(", ");
    out.push(
      `add element ${POLICY_TABLE} ${SET_RULE_HITS} { ${list} }`,
      `delete element ${POLICY_TABLE} ${SET_RULE_HITS} { ${list} }`,
    );
  }
  return out;
}

const CHUNK = 2000;

function emit(
  b: Builder,
  existing: ExistingObjects | undefined,
): Omit<RenderedRuleset, "fingerprint"> & { fp: number } {
  const { spec } = b;
  const out: string[] = [];
  const T = POLICY_TABLE;
  const decl = (m: NamedMap) => `add ${m.kind} ${T} ${m.name} { ${m.declaration} ${comment(m.comment)}; }`;
  out.push(
    `# Gatehouse policy for gateway ${spec.gatewayName} of cluster ${spec.clusterName}: revision ${spec.revision}, failover epoch ${spec.failoverEpoch}`,
    `add table ${T}`,
    `flush table ${T}`,
  );
  // chains before maps: nft 1.0.6 fails (ENOENT) to fill an interval map declared in the same
  // transaction before the chains its elements jump to
  for (const c of b.chains) {
    const head = c.hook === undefined ? "" : `${c.hook} `;
    out.push(`add chain ${T} ${c.name} { ${head}${comment(c.comment)}; }`);
  }
  const applied: NamedMap = {
    name: SET_APPLIED,
    kind: "set",
    declaration: "type mark;",
    comment: "fingerprint of the loaded ruleset",
    elements: [],
  };
  const ruleCounts = ruleCountElements(b.slots);
  const counted: NamedMap[] =
    ruleCounts.length === 0
      ? []
      : [
          {
            name: SET_RULE_HITS,
            kind: "set",
            // two keys per slot at most
            declaration: `type mark; size ${2 * (MAX_RULE_SLOTS + 1)}; flags dynamic; counter;`,
            comment: "rule slot in the connection mark: the counters of the rules that moved lately",
            elements: [],
            keep: true,
          },
        ];
  const maps = [...b.maps, applied, ...counted];
  const before = new Set([...(existing?.maps ?? []), ...(existing?.sets ?? [])]);
  for (const m of maps) {
    out.push(decl(m));
    // nft 1.0.6 cannot flush an interval map created in the same transaction and then fill it
    // (ENOENT): flush only the maps that were already there
    if (before.has(m.name) && m.keep !== true) out.push(`flush ${m.kind} ${T} ${m.name}`);
  }

  const chainNames = new Set(b.chains.map((c) => c.name));
  const mapNames = new Set(maps.filter((m) => m.kind === "map").map((m) => m.name));
  const setNames = new Set(maps.filter((m) => m.kind === "set").map((m) => m.name));
  // gone objects: rules and the elements of kept maps that referred to them were flushed above;
  // gone maps go before gone chains, since their elements still jump to those chains
  for (const m of existing?.maps ?? []) if (!mapNames.has(m)) out.push(`delete map ${T} ${m}`);
  for (const s of existing?.sets ?? []) if (!setNames.has(s)) out.push(`delete set ${T} ${s}`);
  for (const c of existing?.chains ?? []) if (!chainNames.has(c)) out.push(`delete chain ${T} ${c}`);
  // the named counters an agent from before the counter set kept per rule
  for (const c of existing?.counters ?? []) if (isLegacyRuleCounter(c)) out.push(`delete counter ${T} ${c}`);

  for (const m of b.maps) {
    for (let i = 0; i < m.elements.length; i += CHUNK) {
      out.push(`add element ${T} ${m.name} { ${m.elements.slice(i, i + CHUNK).join(", ")} }`);
    }
  }
  // a set created by this load has no elements yet
  if (counted.length > 0 && before.has(SET_RULE_HITS))
    out.push(...ruleCountStatements(ruleCounts, existing?.ruleCounts));
  out.push(`table ${T} {`);
  for (const c of b.chains) {
    if (c.rules.length === 0) continue;
    out.push(`\tchain ${c.name} {`);
    // a vmap statement must end with a newline (nft 1.0.6): one rule per line
    for (const r of c.rules) out.push(`\t\t${r}`);
    out.push("\t}");
  }
  out.push("}");

  const G = GUARD_TABLE;
  const ifaces = [...new Set(b.plan.isps.map((i) => quote(i.interface)))];
  out.push(
    `add table ${G}`,
    `add set ${G} ${GUARD_SET_ISP_IFACES} { type ifname; ${comment("ISP interfaces")}; }`,
    `flush set ${G} ${GUARD_SET_ISP_IFACES}`,
  );
  if (ifaces.length > 0) out.push(`add element ${G} ${GUARD_SET_ISP_IFACES} { ${ifaces.join(", ")} }`);
  const gate = `meta nfproto ipv4 oifname @${GUARD_SET_ISP_IFACES}`;
  // the gateway's own traffic has a local source address and is not the guard's business
  const notLocal = "fib saddr type != local";
  out.push(
    `add chain ${G} ${GUARD_CHAIN} { type filter hook postrouting priority ${GUARD_PRIORITY}; policy accept; ${comment(
      "drop LAN traffic leaving an ISP without NAT",
    )}; }`,
    `flush chain ${G} ${GUARD_CHAIN}`,
    `add rule ${G} ${GUARD_CHAIN} ${gate} ct state invalid ${notLocal} counter drop`,
    `add rule ${G} ${GUARD_CHAIN} ${gate} ct direction original ct status & snat == 0 ct mark & ${hex(MARK_EXCLUDE)} == 0 ${notLocal} counter drop`,
  );
  out.push(...renderUplinkGuard(spec), ...renderArpWatch(spec));

  const body = out.join("\n");
  const fp = fnv1a(body);
  return {
    text: `${body}\nadd element ${T} ${SET_APPLIED} { ${hex(fp)} }\n`,
    fp,
    chains: [...chainNames],
    maps: [...mapNames],
    sets: [...setNames],
    ruleCounts,
  };
}

// ---------------------------------------------------------------------------------------------
// Non-ISP uplinks (guard table)

/**
 * LAN traffic that routing sends out of an interface that is no LAN's, no ISP's and not listed as
 * internal would leave un-NATed with its private source (a second uplink the cluster does not
 * know, a VPN, a management port): the permanent guard drops and counts it in forward, where the
 * input and output interfaces of a routed packet are both known. Without named LAN interfaces the
 * chain stays empty. The chain and sets are always defined, so removing the setting clears them.
 */
export function renderUplinkGuard(spec: GatewaySpec): string[] {
  const G = GUARD_TABLE;
  const lan = [...new Set(spec.settings.lanInterfaces)];
  const permitted = [
    ...new Set([...lan, ...spec.isps.map((i) => i.interface), ...spec.settings.internalInterfaces]),
  ].sort();
  const out = [
    `add set ${G} ${GUARD_SET_LAN_IFACES} { type ifname; ${comment("LAN interfaces")}; }`,
    `flush set ${G} ${GUARD_SET_LAN_IFACES}`,
    `add set ${G} ${GUARD_SET_PERMITTED_IFACES} { type ifname; ${comment("interfaces LAN traffic may leave by")}; }`,
    `flush set ${G} ${GUARD_SET_PERMITTED_IFACES}`,
    `add chain ${G} ${GUARD_FORWARD_CHAIN} { type filter hook forward priority filter; policy accept; ${comment(
      "drop LAN traffic leaving by an interface that is no LAN, ISP or internal one",
    )}; }`,
    `flush chain ${G} ${GUARD_FORWARD_CHAIN}`,
  ];
  if (lan.length === 0) return out;
  out.push(
    `add element ${G} ${GUARD_SET_LAN_IFACES} { ${lan.sort().map(quote).join(", ")} }`,
    `add element ${G} ${GUARD_SET_PERMITTED_IFACES} { ${permitted.map(quote).join(", ")} }`,
    `add rule ${G} ${GUARD_FORWARD_CHAIN} meta nfproto ipv4 iifname @${GUARD_SET_LAN_IFACES} oifname != @${GUARD_SET_PERMITTED_IFACES} counter drop ${comment("LAN traffic to a non-ISP uplink")}`,
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// ARP watch for on-link pools (its own arp-family table)

/** Every on-link pool address of the spec with the interface it lives on, in address order. */
export function onLinkAddresses(spec: GatewaySpec): Array<{ address: string; ispId: string; dev: string }> {
  const isps = new Map(spec.isps.map((i) => [i.id, i]));
  const out: Array<{ address: string; ispId: string; dev: string }> = [];
  for (const pool of spec.pools) {
    if (pool.mode !== "on-link") continue;
    const isp = isps.get(pool.ispId);
    if (isp === undefined) continue;
    for (const address of pool.addresses) out.push({ address, ispId: isp.id, dev: isp.interface });
  }
  return out;
}

/**
 * Counts, per on-link pool address, the ARP requests for it that reach the gateway and the ARP
 * replies the gateway sends for it (set elements with counters: one lookup per ARP packet). An
 * address whose requests keep growing while its replies do not is one the ISP router is looking
 * for and nobody answers: the agent reports it (agent/health/arp-watch.ts). Counters restart at
 * every load (the sets are flushed); the agent treats a drop as a restart.
 */
export function renderArpWatch(spec: GatewaySpec): string[] {
  const A = ARP_TABLE;
  const addresses = [...new Set(onLinkAddresses(spec).map((a) => a.address))];
  const out = [
    `add table ${A}`,
    `flush table ${A}`,
    `add set ${A} ${ARP_SET_ASKED} { type ipv4_addr; counter; ${comment("ARP requests for on-link pool addresses")}; }`,
    `flush set ${A} ${ARP_SET_ASKED}`,
    `add set ${A} ${ARP_SET_ANSWERED} { type ipv4_addr; counter; ${comment("ARP replies for on-link pool addresses")}; }`,
    `flush set ${A} ${ARP_SET_ANSWERED}`,
    `add chain ${A} ${ARP_CHAIN_IN} { type filter hook input priority filter; policy accept; ${comment("count requests")}; }`,
    `add chain ${A} ${ARP_CHAIN_OUT} { type filter hook output priority filter; policy accept; ${comment("count replies")}; }`,
    `add rule ${A} ${ARP_CHAIN_IN} arp operation request arp daddr ip @${ARP_SET_ASKED}`,
    `add rule ${A} ${ARP_CHAIN_OUT} arp operation reply arp saddr ip @${ARP_SET_ANSWERED}`,
  ];
  for (let i = 0; i < addresses.length; i += CHUNK) {
    const chunk = addresses.slice(i, i + CHUNK).join(", ");
    out.push(`add element ${A} ${ARP_SET_ASKED} { ${chunk} }`, `add element ${A} ${ARP_SET_ANSWERED} { ${chunk} }`);
  }
  return out;
}

/** The whole ruleset with the names it defines; throws RenderError on a spec it cannot render. */
/**
 * vsDown: the real servers the agent's health checker has taken out (vs-schedule.ts
 * realServerKey), so a reload keeps them out.
 */
export function renderNft(
  spec: GatewaySpec,
  failover: FailoverState,
  existing?: ExistingObjects,
  vsDown: ReadonlySet<string> = new Set(),
  /** false only to measure what the rules' counters cost (bench/counters.ts) */
  options: { ruleCounters?: boolean } = {},
): RenderedRuleset {
  const { text, fp, chains, maps, sets, ruleCounts } = emit(
    build(spec, failover, vsDown, options.ruleCounters ?? true),
    existing,
  );
  return { text, fingerprint: fp, chains, maps, sets, ruleCounts };
}

export function renderRuleset(spec: GatewaySpec, failover: FailoverState, existing?: ExistingObjects): string {
  return renderNft(spec, failover, existing).text;
}

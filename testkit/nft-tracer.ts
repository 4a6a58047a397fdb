import { jhash, reciprocalScale, registerBytes } from "../core/spec/jhash";
import {
  MARK_ISP_MASK,
  MARK_REROUTE,
  NFT_ARP_TABLE,
  NFT_GUARD_TABLE,
  NFT_TABLE,
  RULE_COUNT_CONNECTIONS,
  routeTableOf,
} from "../core/spec/marks";
import { ipv4ToNumber } from "../core/render/intervals";
import type { RuleCountElement } from "../core/render/nft";

/**
 * A packet tracer over the text renderNft produces: it parses the file and runs a connection's
 * first packet through prerouting, the routing decision (policy routing by mark), the classifier
 * after routing, NAT postrouting and the guard, the way the kernel would; when the classifier
 * drops the packet as misrouted, its retransmission is traced too (the retry sets persist). It knows exactly the statement shapes the renderer writes and throws on
 * anything else, so a change to the renderer cannot slip past the tests unexamined.
 */

export interface TracePacket {
  src: string;
  dst: string;
  protocol: "tcp" | "udp" | "icmp";
  srcPort?: number;
  dstPort?: number;
  /**
   * the interface the kernel's routing really picks without Gatehouse's marks (ECMP, the
   * operator's ip rules); null: a non-ISP interface
   */
  routedInterface: string | null;
  /** the next hop the kernel's routing really picks (`rt ip nexthop`); undefined: none known */
  routedNextHop?: string | null;
  /** what `fib daddr . mark oifname` reports before routing; undefined: the same as routedInterface */
  lookupInterface?: string | null;
  /** the interface the packet came in on (a LAN interface by default) */
  inInterface?: string;
  /** the mark the operator's own rules set before Gatehouse's chains run; 0 by default */
  mark?: number;
}

export interface TraceResult {
  /** the policy table's verdict (prerouting, then the classifier after routing) */
  verdict: "accept" | "drop";
  /** the chain that dropped it, when one did */
  droppedIn: string | null;
  /** the chains prerouting and the classifier passed through, in order (of the last attempt) */
  path: string[];
  /** the first packet was dropped as misrouted and this is its retransmission */
  retried: boolean;
  packetMark: number;
  ctMark: number;
  /** the interface the packet leaves by after policy routing (null when dropped or not an ISP) */
  outInterface: string | null;
  /** the routing table used: "main" or the ISP table id */
  table: "main" | number;
  /** the next hop the packet leaves by after policy routing */
  outNextHop: string | null;
  /**
   * the SNAT address, when a hash chose it; for numgen the candidate addresses instead; for
   * masquerade (an interface-address pool) masquerade is set and there are no candidates
   */
  snat: { address: string | null; candidates: string[]; ports: string | null; masquerade?: true } | null;
  /** whether the guard table dropped the packet on its way out */
  guardDropped: boolean;
  /** the rules whose connection counter (an element of the counter set) the first packet moved, over every attempt */
  counted: string[];
}

type Verdict = { kind: "accept" } | { kind: "drop" } | { kind: "jump" | "goto"; chain: string };

interface Chain {
  name: string;
  rules: string[];
}

interface Ruleset {
  chains: Map<string, Chain>;
  /** element lists of maps and sets, keyed by name, raw "key : value" strings */
  elements: Map<string, string[]>;
  guardSets: Map<string, string[]>;
  guardRules: string[];
  /** rules of the guard's forward chain (non-ISP uplinks) */
  guardForwardRules: string[];
}

const POLICY = `inet ${NFT_TABLE}`;
const GUARD = `inet ${NFT_GUARD_TABLE}`;
const ARP = `arp ${NFT_ARP_TABLE}`;

function splitElements(body: string): string[] {
  return body
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function braces(line: string): string {
  const open = line.indexOf("{");
  const close = line.lastIndexOf("}");
  if (open < 0 || close < open) throw new Error(`trace: expected { ... } in: ${line}`);
  return line.slice(open + 1, close);
}

type LineHandler = (m: RegExpExecArray, line: string) => void;

export function parseRuleset(text: string): Ruleset {
  const rs: Ruleset = {
    chains: new Map(),
    elements: new Map(),
    guardSets: new Map(),
    guardRules: [],
    guardForwardRules: [],
  };
  const ignore: LineHandler = () => {};
  const topLevel: Array<[RegExp, LineHandler]> = [
    [/^(add|flush) table inet \S+$/, ignore],
    [
      new RegExp(`^add chain ${POLICY} (\\S+) \\{.*\\}$`),
      (m) => rs.chains.set(m[1] as string, { name: m[1] as string, rules: [] }),
    ],
    [
      new RegExp(`^add (map|set) ${POLICY} (\\S+) \\{.*\\}$`),
      (m) => {
        if (!rs.elements.has(m[2] as string)) rs.elements.set(m[2] as string, []);
      },
    ],
    [
      new RegExp(`^add element ${POLICY} (\\S+) \\{.*\\}$`),
      (m, line) => {
        const list = rs.elements.get(m[1] as string);
        if (list === undefined) throw new Error(`trace: elements for undeclared map ${m[1]}`);
        list.push(...splitElements(braces(line)));
      },
    ],
    [new RegExp(`^(flush|delete) (map|set|chain) ${POLICY} \\S+$`), ignore],
    [
      new RegExp(`^delete element ${POLICY} (\\S+) \\{.*\\}$`),
      (m, line) => {
        const list = rs.elements.get(m[1] as string);
        if (list === undefined) throw new Error(`trace: deleting elements of undeclared set ${m[1]}`);
        for (const key of splitElements(braces(line))) {
          const at = list.findIndex((e) => e.split(" ")[0] === key);
          if (at < 0) throw new Error(`trace: deleting absent element ${key} of ${m[1]}`);
          list.splice(at, 1);
        }
      },
    ],
    [new RegExp(`^delete counter ${POLICY} \\S+$`), ignore],
    [new RegExp(`^add set ${GUARD} (\\S+) \\{.*\\}$`), (m) => rs.guardSets.set(m[1] as string, [])],
    [
      new RegExp(`^add element ${GUARD} (\\S+) \\{.*\\}$`),
      (m, line) => rs.guardSets.get(m[1] as string)?.push(...splitElements(braces(line))),
    ],
    [new RegExp(`^flush (set|chain) ${GUARD} \\S+$`), ignore],
    [new RegExp(`^add chain ${GUARD} postrouting \\{.*\\}$`), ignore],
    [new RegExp(`^add rule ${GUARD} postrouting (.*)$`), (m) => rs.guardRules.push(m[1] as string)],
    [new RegExp(`^add chain ${GUARD} forward \\{.*\\}$`), ignore],
    [new RegExp(`^add rule ${GUARD} forward (.*)$`), (m) => rs.guardForwardRules.push(m[1] as string)],
    // the ARP watch only counts ARP packets: nothing a traced IPv4 packet passes through
    [new RegExp(`^(add|flush) table ${ARP}$`), ignore],
    [new RegExp(`^add (set|chain) ${ARP} \\S+ \\{.*\\}$`), ignore],
    [new RegExp(`^flush set ${ARP} \\S+$`), ignore],
    [new RegExp(`^add (rule|element) ${ARP} .*$`), ignore],
  ];
  let inBlock = false;
  let current: Chain | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (inBlock) {
      if (current !== null) {
        if (line === "}") current = null;
        else current.rules.push(line);
        continue;
      }
      if (line === "}") {
        inBlock = false;
        continue;
      }
      const m = /^chain (\S+) \{$/.exec(line);
      if (m === null) throw new Error(`trace: unknown line in table block: ${line}`);
      const chain = rs.chains.get(m[1] as string);
      if (chain === undefined) throw new Error(`trace: rules for undeclared chain ${m[1]}`);
      current = chain;
      continue;
    }
    if (line === `table ${POLICY} {`) {
      inBlock = true;
      continue;
    }
    const known = topLevel.map(([re, handle]) => [re.exec(line), handle] as const).find(([m]) => m !== null);
    if (known === undefined) throw new Error(`trace: unknown line: ${line}`);
    known[1](known[0] as RegExpExecArray, line);
  }
  return rs;
}

const unquote = (s: string) => s.replace(/^"|"$/g, "");
const num = (s: string) => {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`trace: not a number: ${s}`);
  return n >>> 0;
};

function parseVerdict(text: string): Verdict {
  const t = text.trim();
  if (t === "accept") return { kind: "accept" };
  if (t === "drop") return { kind: "drop" };
  const m = /^(jump|goto) (\S+)$/.exec(t);
  if (m === null) throw new Error(`trace: unknown verdict: ${t}`);
  return { kind: m[1] as "jump" | "goto", chain: m[2] as string };
}

/** "key : value" pairs of a map, or plain keys of a set. */
function pairs(list: string[]): Array<[string, string]> {
  return list.map((e) => {
    const i = e.indexOf(" : ");
    if (i < 0) throw new Error(`trace: not a map element: ${e}`);
    return [e.slice(0, i).trim(), e.slice(i + 3).trim()];
  });
}

function inAddressSpec(spec: string, addr: number): boolean {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+)|-(\d+\.\d+\.\d+\.\d+))?$/.exec(spec.trim());
  if (m === null) throw new Error(`trace: unknown address form: ${spec}`);
  const start = ipv4ToNumber(m[1] as string);
  if (m[2] !== undefined) {
    const size = 2 ** (32 - Number(m[2]));
    return addr >= start && addr < start + size;
  }
  if (m[3] !== undefined) return addr >= start && addr <= ipv4ToNumber(m[3]);
  return addr === start;
}

interface State {
  packet: TracePacket;
  packetMark: number;
  ctMark: number;
  confirmed: boolean;
  /** the interface routing picked; null before routing */
  oif: string | null;
  /** the next hop routing picked (null: none known) */
  nexthop: string | null;
  /** elements packets added to dynamic sets (they outlive one packet) */
  dynamic: Map<string, Set<string>>;
  /** the rules whose connection counter the connection's first packets moved, in order (over every attempt) */
  counted: string[];
  /** which rule each key of the rules' counter set counts (RenderedRuleset.ruleCounts); absent: counted holds the keys */
  ruleKeys?: ReadonlyMap<number, string>;
}

const tupleKey = (p: TracePacket, five: boolean) =>
  [p.src, p.dst, PROTO_NUMBER_OF[p.protocol], ...(five ? [p.srcPort ?? 0, p.dstPort ?? 0] : [])].join(" ");
const PROTO_NUMBER_OF = { tcp: 6, udp: 17, icmp: 1 } as const;
const FIVE = "ip saddr . ip daddr . meta l4proto . th sport . th dport";
const THREE = "ip saddr . ip daddr . meta l4proto";

const PROTO_NUMBER = { tcp: 6, udp: 17, icmp: 1 } as const;

class Tracer {
  path: string[] = [];
  constructor(
    readonly rs: Ruleset,
    readonly st: State,
  ) {}

  oif(): string | null {
    if (this.st.oif === null) throw new Error("trace: the output interface is read before routing");
    return this.st.oif;
  }

  dynamicSet(name: string): Set<string> {
    if (!this.rs.elements.has(name)) throw new Error(`trace: unknown set @${name}`);
    let set = this.st.dynamic.get(name);
    if (set === undefined) {
      set = new Set();
      this.st.dynamic.set(name, set);
    }
    return set;
  }

  elements(name: string): string[] {
    const list = this.rs.elements.get(name);
    if (list === undefined) throw new Error(`trace: unknown map @${name}`);
    return list;
  }

  vmapLookup(ref: string, key: (k: string) => boolean): Verdict | null {
    const entries = ref.startsWith("@") ? pairs(this.elements(ref.slice(1))) : pairs(splitElements(braces(ref)));
    const hit = entries.find(([k]) => key(k));
    return hit === undefined ? null : parseVerdict(hit[1]);
  }

  /**
   * Runs one rule: null when it does not match (or matched without a verdict), else its verdict.
   * Consumes the rule text statement by statement; anything unknown is an error.
   */
  rule(text: string): Verdict | null {
    const p = this.st.packet;
    const braced = "(\\{[^}]*\\}|@\\S+)";
    const NEXT = "next" as const;
    type Step = Verdict | null | typeof NEXT;
    const statements: Array<[RegExp, (m: RegExpExecArray) => Step]> = [
      [/^ct status confirmed\b/, () => (this.st.confirmed ? NEXT : null)],
      [/^ct status ! confirmed\b/, () => (this.st.confirmed ? null : NEXT)],
      [/^ct mark & (0x[0-9a-f]+) != 0\b/, (m) => ((this.st.ctMark & num(m[1] as string)) !== 0 ? NEXT : null)],
      // an update of the rules' counter set moves the counter of its key (adding it when it is not there)
      [
        /^update @(\S+) \{ ct mark & (0x[0-9a-f]+)(?: \| (0x[0-9a-f]+))? \}/,
        (m) => {
          this.dynamicSet(m[1] as string);
          const key = ((this.st.ctMark & num(m[2] as string)) | num(m[3] ?? "0")) >>> 0;
          if ((key & RULE_COUNT_CONNECTIONS) === 0) return NEXT;
          const keys = this.st.ruleKeys;
          const rule = keys === undefined ? `0x${key.toString(16).padStart(8, "0")}` : keys.get(key);
          if (rule === undefined) throw new Error(`trace: counter key 0x${key.toString(16)} of no rule`);
          this.st.counted.push(rule);
          return NEXT;
        },
      ],
      // the tracer follows packets of the original direction only
      [/^ct direction original\b/, () => NEXT],
      [
        new RegExp(`^ct mark & (0x[0-9a-f]+) vmap ${braced}$`),
        (m) => {
          const v = (this.st.ctMark & num(m[1] as string)) >>> 0;
          return this.vmapLookup(m[2] as string, (k) => num(k) === v);
        },
      ],
      // every traced packet is IPv4
      [/^meta nfproto (!= )?ipv4\b/, (m) => (m[1] === undefined ? NEXT : null)],
      [
        /^iifname @(\S+)/,
        (m) =>
          this.elements(m[1] as string)
            .map(unquote)
            .includes(p.inInterface ?? "lan0")
            ? NEXT
            : null,
      ],
      [
        new RegExp(`^fib daddr \\. mark oifname vmap ${braced}$`),
        (m) => {
          const lookup = p.lookupInterface === undefined ? p.routedInterface : p.lookupInterface;
          return this.vmapLookup(m[1] as string, (k) => unquote(k) === (lookup ?? ""));
        },
      ],
      // traced packets come from the LAN, never from one of the gateway's own addresses
      [/^fib saddr type local\b/, () => null],
      [
        new RegExp(`^oifname vmap ${braced}$`),
        (m) => this.vmapLookup(m[1] as string, (k) => unquote(k) === (this.oif() ?? "")),
      ],
      [/^oifname ("[^"]*")/, (m) => (unquote(m[1] as string) === this.oif() ? NEXT : null)],
      [
        new RegExp(`^rt ip nexthop vmap ${braced}$`),
        (m) => {
          this.oif();
          return this.vmapLookup(m[1] as string, (k) => k === this.st.nexthop);
        },
      ],
      [/^rt ip nexthop (\d+\.\d+\.\d+\.\d+)/, (m) => (this.oif() !== null && m[1] === this.st.nexthop ? NEXT : null)],
      [
        /^(ip saddr \. ip daddr \. meta l4proto(?: \. th sport \. th dport)?) @(\S+)/,
        (m) => (this.dynamicSet(m[2] as string).has(tupleKey(p, m[1] === FIVE)) ? NEXT : null),
      ],
      [
        /^add @(\S+) \{ (.+?) \}/,
        (m) => {
          if (m[2] !== FIVE && m[2] !== THREE) throw new Error(`trace: unknown set key ${m[2]}`);
          this.dynamicSet(m[1] as string).add(tupleKey(p, m[2] === FIVE));
          return NEXT;
        },
      ],
      [
        /^meta mark set meta mark & (0x[0-9a-f]+)(?: \| (0x[0-9a-f]+))?/,
        (m) => {
          this.st.packetMark = ((this.st.packetMark & num(m[1] as string)) | num(m[2] ?? "0")) >>> 0;
          return NEXT;
        },
      ],
      [
        /^ct mark set ct mark & (0x[0-9a-f]+)(?: \| (0x[0-9a-f]+))?/,
        (m) => {
          this.st.ctMark = ((this.st.ctMark & num(m[1] as string)) | num(m[2] ?? "0")) >>> 0;
          return NEXT;
        },
      ],
      [
        new RegExp(`^ip saddr & (\\d+\\.\\d+\\.\\d+\\.\\d+) vmap ${braced}$`),
        (m) => {
          const masked = (ipv4ToNumber(p.src) & ipv4ToNumber(m[1] as string)) >>> 0;
          return this.vmapLookup(m[2] as string, (k) => ipv4ToNumber(k) === masked);
        },
      ],
      [
        new RegExp(`^ip saddr vmap ${braced}$`),
        (m) => {
          const src = ipv4ToNumber(p.src);
          return this.vmapLookup(m[1] as string, (k) => inAddressSpec(k, src));
        },
      ],
      [
        /^ip daddr (\{[^}]*\}|\S+)/,
        (m) => {
          const dst = ipv4ToNumber(p.dst);
          const specs = (m[1] as string).startsWith("{") ? splitElements(braces(m[1] as string)) : [m[1] as string];
          return specs.some((x) => inAddressSpec(x, dst)) ? NEXT : null;
        },
      ],
      [
        /^iifname (\{[^}]*\}|"[^"]*")/,
        (m) => {
          const names = (m[1] as string).startsWith("{") ? splitElements(braces(m[1] as string)) : [m[1] as string];
          return names.map(unquote).includes(p.inInterface ?? "lan0") ? NEXT : null;
        },
      ],
      [
        /^th dport (\{[^}]*\}|\d+(?:-\d+)?)/,
        (m) => {
          const specs = (m[1] as string).startsWith("{") ? splitElements(braces(m[1] as string)) : [m[1] as string];
          const port = p.dstPort;
          if (port === undefined) return null;
          return specs.some((x) => {
            const [a, b] = x.split("-").map(Number);
            return port >= (a as number) && port <= (b ?? (a as number));
          })
            ? NEXT
            : null;
        },
      ],
      [/^meta l4proto \{ tcp, udp \}/, () => (p.protocol === "tcp" || p.protocol === "udp" ? NEXT : null)],
      [/^meta l4proto != \{ tcp, udp \}/, () => (p.protocol === "tcp" || p.protocol === "udp" ? null : NEXT)],
      [/^meta l4proto (tcp|udp|icmp)\b/, (m) => (p.protocol === m[1] ? NEXT : null)],
      [
        /^meta mark & (0x[0-9a-f]+) == (0x[0-9a-f]+)/,
        (m) => ((this.st.packetMark & num(m[1] as string)) >>> 0 === num(m[2] as string) ? NEXT : null),
      ],
      [
        new RegExp(`^meta mark & (0x[0-9a-f]+) vmap ${braced}$`),
        (m) => {
          const v = (this.st.packetMark & num(m[1] as string)) >>> 0;
          return this.vmapLookup(m[2] as string, (k) => num(k) === v);
        },
      ],
      [
        /^meta mark & (0x[0-9a-f]+) \{ ([^}]*) \}/,
        (m) => {
          const v = (this.st.packetMark & num(m[1] as string)) >>> 0;
          return splitElements(m[2] as string).some((k) => num(k) === v) ? NEXT : null;
        },
      ],
      [/^counter\b/, () => NEXT],
      [/^(accept|drop|(?:jump|goto) \S+)$/, (m) => parseVerdict(m[1] as string)],
    ];
    // a rule's comment is the last thing on it and has no effect
    let rest = text.trim().replace(/ comment "[^"]*"$/, "");
    while (rest !== "") {
      const hit = statements.map(([re, run]) => [re.exec(rest), run] as const).find(([m]) => m !== null);
      if (hit === undefined) throw new Error(`trace: unknown statement at "${rest}" in rule: ${text}`);
      const m = hit[0] as RegExpExecArray;
      rest = rest.slice(m[0].length).trimStart();
      const step = hit[1](m);
      if (step !== NEXT) return step;
    }
    return null;
  }

  /** Runs a base chain with nft's jump/goto/return semantics. */
  run(base: string): { verdict: "accept" | "drop"; droppedIn: string | null } {
    const stack: Array<{ chain: Chain; next: number }> = [];
    let chain = this.chain(base);
    let i = 0;
    this.path.push(chain.name);
    for (let steps = 0; steps < 100_000; steps++) {
      if (i >= chain.rules.length) {
        const frame = stack.pop();
        if (frame === undefined) return { verdict: "accept", droppedIn: null };
        chain = frame.chain;
        i = frame.next;
        continue;
      }
      const v = this.rule(chain.rules[i] as string);
      i++;
      if (v === null) continue;
      if (v.kind === "accept") return { verdict: "accept", droppedIn: null };
      if (v.kind === "drop") return { verdict: "drop", droppedIn: chain.name };
      if (v.kind === "jump") {
        if (stack.length >= 16) throw new Error("trace: jump stack overflow");
        stack.push({ chain, next: i });
      }
      chain = this.chain(v.chain);
      i = 0;
      this.path.push(chain.name);
    }
    throw new Error("trace: loop");
  }

  chain(name: string): Chain {
    const c = this.rs.chains.get(name);
    if (c === undefined) throw new Error(`trace: unknown chain ${name}`);
    return c;
  }
}

function hashField(field: string, p: TracePacket): { value: number; width: 1 | 2 | 4 } {
  switch (field) {
    case "ip saddr":
      return { value: ipv4ToNumber(p.src), width: 4 };
    case "ip daddr":
      return { value: ipv4ToNumber(p.dst), width: 4 };
    case "meta l4proto":
      return { value: PROTO_NUMBER[p.protocol], width: 1 };
    case "th sport":
      return { value: p.srcPort ?? 0, width: 2 };
    case "th dport":
      return { value: p.dstPort ?? 0, width: 2 };
    default:
      throw new Error(`trace: unknown hash field ${field}`);
  }
}

/** Runs the NAT postrouting chain; only the statements the renderer writes there are known. */
function runNat(rs: Ruleset, st: State): TraceResult["snat"] {
  const tracer = new Tracer(rs, st);
  const post = tracer.chain("postrouting");
  const [dispatch, ...more] = post.rules;
  if (dispatch === undefined) return null;
  if (more.length > 0) throw new Error("trace: postrouting has more than the dispatch rule");
  const v = tracer.rule(dispatch);
  if (v === null) return null;
  if (v.kind !== "goto") throw new Error(`trace: postrouting dispatch must goto, got ${v.kind}`);
  const p = st.packet;
  for (const rule of tracer.chain(v.chain).rules) {
    let text = rule.replace(/ comment "[^"]*"$/, "");
    if (text.startsWith("meta l4proto { tcp, udp } ")) {
      if (p.protocol !== "tcp" && p.protocol !== "udp") continue;
      text = text.slice("meta l4proto { tcp, udp } ".length);
    }
    const masq = /^masquerade(?: to :(\d+-\d+))?$/.exec(text);
    if (masq !== null) return { address: null, candidates: [], ports: masq[1] ?? null, masquerade: true };
    const m =
      /^snat ip to (jhash (.+) mod (\d+) seed (0x[0-9a-f]+)|numgen (random|inc) mod (\d+)) map @(\S+)(?: : (\d+-\d+))?$/.exec(
        text,
      );
    if (m === null) throw new Error(`trace: unknown NAT rule: ${rule}`);
    const addresses = pairs(tracer.elements(m[7] as string))
      .sort((a, b) => num(a[0]) - num(b[0]))
      .map(([, addr]) => addr);
    const ports = m[8] ?? null;
    if (m[2] === undefined) return { address: null, candidates: addresses.slice(0, Number(m[6])), ports };
    const fields = (m[2] as string).split(" . ").map((f) => hashField(f.trim(), p));
    const bucket = reciprocalScale(jhash(registerBytes(fields), num(m[4] as string)), Number(m[3]));
    const address = addresses[bucket];
    if (address === undefined) throw new Error(`trace: hash bucket ${bucket} has no address`);
    return { address, candidates: addresses, ports };
  }
  throw new Error(`trace: NAT chain ${v.chain} decided nothing`);
}

/** The guard's forward chain: LAN traffic leaving by an interface no LAN, ISP or internal one. */
function runForwardGuard(rs: Ruleset, iif: string, oif: string | null): boolean {
  const set = (name: string) => (rs.guardSets.get(name) ?? []).map(unquote);
  for (const rule of rs.guardForwardRules) {
    const m = /^meta nfproto ipv4 iifname @(\S+) oifname != @(\S+) counter drop comment "[^"]*"$/.exec(rule);
    if (m === null) throw new Error(`trace: unknown guard forward rule: ${rule}`);
    // a packet whose way out is unknown to the trace (null) is not on a permitted interface either
    if (set(m[1] as string).includes(iif) && (oif === null || !set(m[2] as string).includes(oif))) return true;
  }
  return false;
}

function runGuard(rs: Ruleset, st: State, oif: string | null, snat: boolean): boolean {
  const ifaces = (rs.guardSets.get("isp_ifaces") ?? []).map(unquote);
  for (const rule of rs.guardRules) {
    const gate = "meta nfproto ipv4 oifname @isp_ifaces ";
    if (!rule.startsWith(gate)) throw new Error(`trace: unknown guard rule: ${rule}`);
    const rest = rule.slice(gate.length);
    if (oif === null || !ifaces.includes(oif)) continue;
    // traced packets are tracked LAN packets, never invalid, never from a local address
    if (rest === "ct state invalid fib saddr type != local counter drop") continue;
    const m =
      /^ct direction original ct status & snat == 0 ct mark & (0x[0-9a-f]+) == 0 fib saddr type != local counter drop$/.exec(
        rest,
      );
    if (m === null) throw new Error(`trace: unknown guard rule: ${rule}`);
    if (!snat && (st.ctMark & num(m[1] as string)) === 0) return true;
  }
  return false;
}

/** Traces a connection's first packet (and its retransmission, when that one was misrouted) through a rendered ruleset. */
export function traceRuleset(
  text: string,
  packet: TracePacket,
  routing: {
    interfaceOfTable: (table: number) => string | null;
    nextHopOfTable?: (table: number) => string | null;
    /** which rule each key of the rules' counter set counts (RenderedRuleset.ruleCounts) */
    ruleCounts?: readonly RuleCountElement[];
  },
): TraceResult {
  const ruleKeys =
    routing.ruleCounts === undefined ? undefined : new Map(routing.ruleCounts.map((e) => [e.key, e.ruleId]));
  const rs = parseRuleset(text);
  const dynamic = new Map<string, Set<string>>();
  const counted: string[] = [];
  for (let attempt = 0; ; attempt++) {
    // a retransmission is a new packet with a new (unconfirmed) conntrack entry
    const st: State = {
      packet,
      packetMark: packet.mark ?? 0,
      ctMark: 0,
      confirmed: false,
      oif: null,
      nexthop: null,
      dynamic,
      counted,
      ruleKeys,
    };
    const tracer = new Tracer(rs, st);
    const pre = tracer.run("prerouting");
    const result: TraceResult = {
      verdict: pre.verdict,
      droppedIn: pre.droppedIn,
      path: tracer.path,
      packetMark: st.packetMark,
      ctMark: st.ctMark,
      outInterface: null,
      outNextHop: null,
      table: "main",
      snat: null,
      guardDropped: false,
      retried: attempt > 0,
      counted,
    };
    if (pre.verdict === "drop") return result;
    // policy routing: ip rule fwmark REROUTE|index/0x1ff lookup the ISP's table (routes.ts)
    if ((st.packetMark & MARK_REROUTE) !== 0) {
      const index = st.packetMark & MARK_ISP_MASK;
      result.table = routeTableOf(index);
      result.outInterface = routing.interfaceOfTable(result.table);
      result.outNextHop = routing.nextHopOfTable?.(result.table) ?? null;
    } else {
      result.outInterface = packet.routedInterface;
      result.outNextHop = packet.routedNextHop ?? null;
    }
    st.oif = result.outInterface;
    st.nexthop = result.outNextHop;
    const post = rs.chains.has("classify") ? tracer.run("classify") : { verdict: "accept" as const, droppedIn: null };
    result.packetMark = st.packetMark;
    result.ctMark = st.ctMark;
    if (post.verdict === "drop") {
      if (post.droppedIn?.startsWith("misroute_") && attempt === 0) continue;
      return { ...result, verdict: "drop", droppedIn: post.droppedIn, outInterface: null };
    }
    if (rs.chains.has("count_traffic") && tracer.run("count_traffic").verdict === "drop") {
      throw new Error("trace: the count chain dropped a packet");
    }
    if (runForwardGuard(rs, packet.inInterface ?? "lan0", result.outInterface)) {
      result.guardDropped = true;
      return result;
    }
    result.snat = runNat(rs, st);
    result.guardDropped = runGuard(rs, st, result.outInterface, result.snat !== null);
    return result;
  }
}

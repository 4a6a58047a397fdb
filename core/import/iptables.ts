import {
  criteriaCount,
  type Fwmark,
  formatPortSpan,
  parseFwmark,
  parsePortSpan,
  setCriteria,
} from "../policy/match-criteria";
import { type Pool, type Protocol, type Rule, zInterfaceName } from "../policy/model";
import { type PolicyBuilder, safeComment } from "./builder";
import { type DnatText, importDnat, parseDnat } from "./iptables-dnat";
import { type Dialect, type OptionKey, readRuleOptions } from "./iptables-options";
import { isIPv4, parseCidr } from "../address";
import { expandRange, normaliseCidr, type SourceLine, words } from "./text";

/**
 * `iptables-save` output (and `iptables -t nat -A ...` lines from scripts): the nat table's
 * POSTROUTING chain, and CHROUTE redirects (mangle PREROUTING). iptables is first-match in list
 * order, so the imported rules keep the chains' order: CHROUTE rules first, then the nat rules,
 * each in file order, with pinned priorities (or, in a cluster whose rules apply in the order
 * listed, at the end of its list in that order). SNAT without --persistent picks the address by a
 * hash of source and destination (sdh); with --persistent by the source alone (sh). PREROUTING
 * DNAT rules become virtual services (iptables-dnat.ts). Every reader parses a rule's options
 * with iptables-options.ts.
 */

const PROTOCOLS: Record<string, Protocol> = { tcp: "tcp", udp: "udp", icmp: "icmp", all: "any" };

interface RuleText {
  src?: string;
  dst?: string;
  oif?: string;
  proto?: string;
  target?: string;
  toSource?: string;
  /** MASQUERADE --to-ports */
  toPorts?: string;
  /** --dport / multiport --dports, as written ("80", "8000:8100") */
  dports?: string[];
  iif?: string;
  mark?: string;
  persistent: boolean;
  comment?: string;
  notes: string[];
}

const NAT_DIALECT: Dialect = {
  becomes: "a Gatehouse rule",
  optionWord: "option",
  reads: new Set<OptionKey>([
    "src",
    "dst",
    "oif",
    "iif",
    "proto",
    "target",
    "toSource",
    "toPorts",
    "dports",
    "sports",
    "mark",
    "persistent",
    "random",
    "comment",
  ]),
  matches: ["comment", "tcp", "udp", "icmp", "multiport", "mark"],
};

/** Parses the words after `-A CHAIN`; returns a reason when the rule cannot be expressed. */
function parseRule(ws: string[]): RuleText | string {
  const o = readRuleOptions(ws, NAT_DIALECT);
  if (typeof o === "string") return o;
  const v = o.values;
  if (v.sports !== undefined) {
    return `a source port match (${o.words.sports}) cannot be expressed: Gatehouse rules match destination ports only`;
  }
  // iptables' "eth+" is a prefix match: a rule names whole interfaces
  if (v.iif?.endsWith("+")) return `the interface pattern "${v.iif}" cannot be expressed: name each interface`;
  const notes = o.flags.has("random")
    ? [`${o.words.random} (port randomisation) is the kernel's own business: dropped`]
    : [];
  return {
    src: v.src,
    dst: v.dst,
    oif: v.oif,
    proto: v.proto,
    target: v.target,
    toSource: v.toSource,
    toPorts: v.toPorts,
    dports: v.dports?.split(","),
    iif: v.iif,
    mark: v.mark,
    persistent: o.flags.has("persistent"),
    comment: v.comment,
    notes,
  };
}

/** MASQUERADE --to-ports: null when absent, "bad" when not port[-port]. */
function parsePortRange(text: string | undefined): Pool["portRange"] | "bad" {
  if (text === undefined) return null;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (m === null) return "bad";
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  return from >= 1 && to <= 65535 && from <= to ? { from, to } : "bad";
}

function parseToSource(text: string, changed: string[]): { range: string; ports: Pool["portRange"] } | null {
  const [addr, ports, extra] = text.split(":");
  if (extra !== undefined || addr === undefined) return null;
  const range = expandRange(addr, changed);
  if (!range) return null;
  if (ports === undefined) return { range, ports: null };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (from < 1 || to > 65535 || from > to) return null;
  return { range, ports: { from, to } };
}

/** Ports, input interface and mark of a parsed rule in the model's words, or why not. */
function importCriteria(
  r: RuleText,
  protocol: Protocol,
): { dstPorts?: string[]; inInterfaces?: string[]; fwmark?: Fwmark } | string {
  const out: { dstPorts?: string[]; inInterfaces?: string[]; fwmark?: Fwmark } = {};
  if (r.dports !== undefined) {
    if (protocol !== "tcp" && protocol !== "udp") return "a port match needs -p tcp or -p udp";
    const spans: string[] = [];
    for (const text of r.dports) {
      const p = parsePortSpan(text);
      if (!p.ok) return `the destination port ${p.error}`;
      spans.push(formatPortSpan(p.value));
    }
    out.dstPorts = spans;
  }
  if (r.iif !== undefined) {
    const name = zInterfaceName.safeParse(r.iif);
    if (!name.success) return `the input interface "${r.iif}" ${name.error.issues[0]?.message ?? "is not valid"}`;
    out.inInterfaces = [r.iif];
  }
  if (r.mark !== undefined) {
    const m = parseFwmark(r.mark);
    if (!m.ok) return `--mark ${r.mark}: ${m.error}`;
    out.fwmark = m.value;
  }
  return out;
}

export function importIptables(b: PolicyBuilder, lines: SourceLine[]) {
  b.addLines(lines);
  let table = "nat"; // script lines name their table; a save file says it with *table
  const dnat: DnatText[] = [];
  const chroutes: Array<{ src: SourceLine; text: ChrouteText }> = [];
  const natRules: PendingRule[] = [];
  for (const src of lines) {
    const text = src.text.trim();
    if (text === "") {
      b.say(src, "ignored", "blank line");
      continue;
    }
    if (text.startsWith("#")) {
      b.say(src, "ignored", "comment");
      continue;
    }
    if (text.startsWith("*")) {
      table = text.slice(1).trim();
      b.say(
        src,
        "ignored",
        table === "nat" ? "start of the nat table" : `start of the ${table} table: only the nat table is imported`,
      );
      continue;
    }
    if (text === "COMMIT") {
      b.say(src, "ignored", "end of a table");
      continue;
    }
    if (text.startsWith(":")) {
      const chain = text.slice(1).split(/\s+/)[0] ?? "";
      const builtin = ["PREROUTING", "POSTROUTING", "INPUT", "OUTPUT", "FORWARD"].includes(chain);
      b.say(
        src,
        "ignored",
        builtin ? `chain ${chain} and its counters` : `user chain ${chain}: its rules are not imported`,
      );
      continue;
    }
    let ws = words(text);
    if (/(^|\/)iptables(-legacy|-nft)?$/.test(ws[0] ?? "") || ws[0] === "sudo") {
      while (ws[0] === "sudo" || /(^|\/)iptables(-legacy|-nft)?$/.test(ws[0] ?? "")) ws = ws.slice(1);
      const t = ws.indexOf("-t");
      table = t === -1 ? "filter" : (ws[t + 1] ?? "");
      if (t !== -1) ws.splice(t, 2);
    }
    if (/\bCHROUTE\b/.test(text)) {
      const chain = ws[1] ?? "";
      if ((ws[0] !== "-A" && ws[0] !== "--append") || ws[ws.indexOf("-j") + 1] !== "CHROUTE") {
        b.say(src, "not-imported", "not imported because only -A CHAIN ... -j CHROUTE lines are read as redirects");
        continue;
      }
      if (chain !== "PREROUTING" && chain !== "FORWARD" && chain !== "POSTROUTING") {
        b.say(
          src,
          "not-imported",
          `not imported: rules in user chain ${chain} are not imported (jumps are not followed)`,
        );
        continue;
      }
      const parsed = parseChroute(ws.slice(2));
      if (typeof parsed === "string") b.say(src, "not-imported", `not imported because ${parsed}`);
      else chroutes.push({ src, text: parsed });
      continue;
    }
    if (table !== "nat") {
      b.say(src, "not-imported", `not imported: only the nat table is imported (this is the ${table} table)`);
      continue;
    }
    const cmd = ws[0];
    if (cmd === "-I" || cmd === "--insert") {
      b.say(
        src,
        "not-imported",
        "not imported because -I inserts at a place the import cannot know: import iptables-save output",
      );
      continue;
    }
    if (cmd === "-F" || cmd === "-X" || cmd === "-Z" || cmd === "-N" || cmd === "-P") {
      b.say(src, "ignored", "chain management: nothing to import");
      continue;
    }
    if (cmd !== "-A" && cmd !== "--append") {
      b.say(src, "not-imported", "not imported because it is not an iptables rule (-A CHAIN ...)");
      continue;
    }
    const chain = ws[1] ?? "";
    const parsed = parseRule(ws.slice(2));
    if (chain === "PREROUTING" && ws.includes("DNAT")) {
      const d = parseDnat(src, ws.slice(2));
      if (typeof d === "string") b.say(src, "not-imported", `not imported because ${d}`);
      else dnat.push(d);
      continue;
    }
    if (chain === "PREROUTING" || chain === "OUTPUT") {
      b.say(
        src,
        "not-imported",
        ws.includes("DNAT")
          ? "not imported: DNAT of connections the gateway itself makes (OUTPUT) has no equivalent; PREROUTING DNAT is read as a virtual service"
          : `not imported: only POSTROUTING (source NAT) and PREROUTING DNAT rules are imported; this is a ${chain} rule without DNAT`,
      );
      continue;
    }
    if (chain !== "POSTROUTING") {
      b.say(
        src,
        "not-imported",
        `not imported: rules in user chain ${chain} are not imported (jumps are not followed)`,
      );
      continue;
    }
    if (typeof parsed === "string") {
      b.say(src, "not-imported", `not imported because ${parsed}`);
      continue;
    }
    const changed: string[] = [];
    const source = normaliseCidr(parsed.src ?? "0.0.0.0/0", changed);
    const dest = parsed.dst === undefined ? null : normaliseCidr(parsed.dst, changed);
    if (!source || (parsed.dst !== undefined && !dest)) {
      b.say(src, "not-imported", `not imported because ${!source ? parsed.src : parsed.dst} is not a network`, changed);
      continue;
    }
    const protocol = parsed.proto === undefined ? "any" : PROTOCOLS[parsed.proto];
    if (!protocol) {
      b.say(
        src,
        "not-imported",
        `not imported because protocol "${parsed.proto}" is not tcp, udp, icmp or all`,
        changed,
      );
      continue;
    }
    const criteria = importCriteria(parsed, protocol);
    if (typeof criteria === "string") {
      b.say(src, "not-imported", `not imported because ${criteria}`, changed);
      continue;
    }
    const target = parsed.target ?? "";
    if (target === "MASQUERADE" && parsed.oif === undefined) {
      b.say(
        src,
        "not-imported",
        "not imported: MASQUERADE without -o takes the address of whichever interface a packet leaves by; Gatehouse needs the ISP's interface (-o) to know whose interface address it is",
        changed,
      );
      continue;
    }
    const masqueradePorts = target === "MASQUERADE" ? parsePortRange(parsed.toPorts) : null;
    if (masqueradePorts === "bad") {
      b.say(src, "not-imported", `not imported because --to-ports "${parsed.toPorts}" is not port[-port]`, changed);
      continue;
    }
    if (target !== "" && !/^[A-Z]+$/.test(target)) {
      b.say(
        src,
        "not-imported",
        `not imported: the jump to user chain ${target} is not followed (its rules are not imported)`,
        changed,
      );
      continue;
    }
    if (target !== "SNAT" && target !== "MASQUERADE" && target !== "RETURN" && target !== "ACCEPT") {
      b.say(
        src,
        "not-imported",
        target
          ? `not imported because the target ${target} is not SNAT, MASQUERADE, RETURN or ACCEPT`
          : "not imported because it has no target (-j): it only counts packets",
        changed,
      );
      continue;
    }
    const egress = b.ispFor(src, parsed.oif, undefined);
    if (egress === null) {
      b.say(src, "question", "needs an answer (see the questions) to know its ISP", changed);
      continue;
    }
    let action: Rule["action"];
    let merged: string | null = null;
    if (target === "SNAT") {
      const to = parseToSource(parsed.toSource ?? "", changed);
      if (!to) {
        b.say(
          src,
          "not-imported",
          `not imported because --to-source "${parsed.toSource ?? ""}" is not a[-b][:port[-port]]`,
          changed,
        );
        continue;
      }
      const owner = egress === "any" ? b.ownerFor(src, `the addresses ${to.range}`) : egress;
      if (owner === null) {
        b.say(src, "question", "needs an answer (see the questions) to know which ISP owns its addresses", changed);
        continue;
      }
      const got = b.poolFor([to.range], owner, to.ports, `snat-${to.range.split("-")[0]}`);
      merged = got.merged;
      action = { type: "snat", poolId: got.pool.id, algorithm: parsed.persistent ? "sh" : "sdh" };
    } else if (target === "MASQUERADE" && egress !== "any") {
      // -o is set, so the egress is the ISP on that interface: its interface-address pool
      const got = b.poolFor([], egress, masqueradePorts, `${egress.name}-address`, "interface");
      merged = got.merged;
      action = { type: "snat", poolId: got.pool.id, algorithm: "sh" };
    } else action = { type: "exclude" };
    const why =
      target === "MASQUERADE"
        ? ` (MASQUERADE: the current address of ${parsed.oif ?? "the interface"})`
        : target === "SNAT"
          ? parsed.persistent
            ? " (--persistent: same address per source)"
            : " (no --persistent: hash of source and destination)"
          : "";
    natRules.push({
      src,
      fields: {
        source: { kind: "cidrs", cidrs: [source] },
        destinations: dest && dest !== "0.0.0.0/0" ? [dest] : [],
        protocol,
        ...criteria,
        egress,
        action,
        comment: parsed.comment ? safeComment(parsed.comment) : `iptables line ${src.line}`,
      },
      changed,
      words: (rule) =>
        `imported as ${b.ruleWords(rule)}${why}${merged ? `; addresses merged with ${merged}` : ""}${parsed.notes.length ? `; ${parsed.notes.join("; ")}` : ""}`,
    });
  }
  // A CHROUTE (mangle PREROUTING) decides the route before the nat table's POSTROUTING chain
  // sees the packet: its rules come first, in the file's order, then the nat rules in theirs.
  // Priorities (or, in a cluster whose rules apply in the order listed, the list) keep that order.
  const ordered = [...chroutes.flatMap((c) => chrouteRules(b, c, natRules)), ...natRules];
  const said = new Map<SourceLine, { parts: string[]; changed: string[] }>();
  for (const r of ordered) {
    const rule = b.rule({ priority: b.pin(), ...r.fields });
    const line = said.get(r.src) ?? { parts: [], changed: r.changed };
    line.parts.push(r.words(rule));
    said.set(r.src, line);
  }
  // a CHROUTE line may become several rules, one for each nat rule that translates part of its traffic
  for (const [src, { parts, changed }] of said) {
    b.say(
      src,
      "imported",
      parts.length === 1 ? (parts[0] as string) : `imported as ${parts.length} rules: ${parts.join("; ")}`,
      changed,
    );
  }
  const pinnedAny = ordered.length > 0;
  importDnat(b, dnat);
  if (pinnedAny && b.existing.settings.ruleOrder !== "list") {
    b.notes.push(
      "iptables rules match first in list order: the imported rules got priorities 10 apart that keep that order",
    );
  }
}

/** A rule read from a line, created once every line is read so that the rules keep iptables' order. */
interface PendingRule {
  src: SourceLine;
  fields: Omit<Parameters<PolicyBuilder["rule"]>[0], "priority">;
  changed: string[];
  /** the line's result once the rule exists */
  words: (rule: Rule) => string;
}

/**
 * CHROUTE (the next-hop redirect of lvs-snat's iptables patch, like its `-N new_gw`): traffic
 * matching the line that would leave through the old gateway (--old-gw; any when absent) is sent
 * through the new one (--gw). Gatehouse says the same with a rule: egress the old gateway's ISP,
 * redirect to the new one's. The rule's translation is what the nat table does to that traffic
 * once it leaves through the new gateway: the first imported POSTROUTING rule that matches it
 * there.
 */
interface ChrouteText {
  src?: string;
  dst?: string;
  proto?: string;
  gw?: string;
  oldGw?: string;
  comment?: string;
}

const CHROUTE_DIALECT: Dialect = {
  becomes: "a Gatehouse rule",
  optionWord: "CHROUTE option",
  reads: new Set<OptionKey>(["src", "dst", "proto", "target", "gw", "oldGw", "comment"]),
  matches: ["comment", "tcp", "udp", "icmp"],
};

function parseChroute(ws: string[]): ChrouteText | string {
  const o = readRuleOptions(ws, CHROUTE_DIALECT);
  if (typeof o === "string") return o;
  const v = o.values;
  const r: ChrouteText = { src: v.src, dst: v.dst, proto: v.proto, gw: v.gw, oldGw: v.oldGw, comment: v.comment };
  if (r.gw === undefined) return "the CHROUTE line names no new gateway (--gw)";
  if (!isIPv4(r.gw)) return `--gw "${r.gw}" is not an IPv4 address`;
  if (r.oldGw !== undefined && !isIPv4(r.oldGw)) return `--old-gw "${r.oldGw}" is not an IPv4 address`;
  return r;
}

function covers(outer: string | null, inner: string | null): boolean {
  if (outer === null || outer === "0.0.0.0/0") return true;
  if (inner === null) return false;
  const o = parseCidr(outer);
  const n = parseCidr(inner);
  return o.ok && n.ok && o.value.start <= n.value.start && n.value.end <= o.value.end;
}

/** The intersection of two networks (null: any), or undefined when they do not meet. */
function meet(a: string | null, b: string | null): string | null | undefined {
  if (covers(a, b)) return b;
  if (covers(b, a)) return a;
  return undefined;
}

function meetProtocol(a: Protocol, b: Protocol): Protocol | undefined {
  if (a === "any") return b;
  if (b === "any" || a === b) return a;
  return undefined;
}

/**
 * The rules one CHROUTE line becomes. After the redirect its traffic leaves through the new
 * gateway's ISP, where the nat rules for that ISP (or any) translate it, the first that matches
 * deciding. So the line becomes one rule per such nat rule that meets its traffic, in their order,
 * each matching the traffic both match and translating as that nat rule does, until a nat rule
 * takes all of it: a RETURN for part of the traffic keeps that part un-NATed, as iptables does.
 */
function chrouteRules(
  b: PolicyBuilder,
  c: { src: SourceLine; text: ChrouteText },
  natRules: readonly PendingRule[],
): PendingRule[] {
  const { src, text } = c;
  const changed: string[] = [];
  const source = normaliseCidr(text.src ?? "0.0.0.0/0", changed);
  const dest = text.dst === undefined ? null : normaliseCidr(text.dst, changed);
  if (!source || (text.dst !== undefined && !dest)) {
    b.say(src, "not-imported", `not imported because ${!source ? text.src : text.dst} is not a network`, changed);
    return [];
  }
  const protocol = text.proto === undefined ? "any" : PROTOCOLS[text.proto];
  if (!protocol) {
    b.say(src, "not-imported", `not imported because protocol "${text.proto}" is not tcp, udp, icmp or all`, changed);
    return [];
  }
  const to = b.ispFor(src, undefined, text.gw);
  const from = text.oldGw === undefined ? "any" : b.ispFor(src, undefined, text.oldGw);
  if (to === null || from === null) {
    b.say(src, "question", "needs an answer (see the questions) to know the ISP of its gateways", changed);
    return [];
  }
  if (to === "any") return []; // parseChroute requires --gw
  if (from !== "any" && from.id === to.id) {
    b.say(
      src,
      "not-imported",
      `not imported because --old-gw and --gw are both ISP "${to.name}": nothing is redirected`,
      changed,
    );
    return [];
  }
  const destination = dest && dest !== "0.0.0.0/0" ? dest : null;
  const via = `${to.name} (gw ${text.gw})`;
  const fromWords = from === "any" ? "" : ` that would leave through ${from.name} (old gw ${text.oldGw})`;
  const comment = text.comment ? safeComment(text.comment) : `CHROUTE line ${src.line}`;
  const out: PendingRule[] = [];
  let whole = false;
  for (const nat of natRules) {
    const f = nat.fields;
    if (f.egress !== "any" && f.egress.id !== to.id) continue;
    const natSource = f.source.kind === "cidrs" ? (f.source.cidrs[0] ?? null) : null;
    const natDest = f.destinations?.[0] ?? null;
    const s = meet(natSource, source);
    const d = meet(natDest, destination);
    const p = meetProtocol(f.protocol ?? "any", protocol);
    if (s === undefined || s === null || d === undefined || p === undefined) continue;
    const criteria = { dstPorts: f.dstPorts, inInterfaces: f.inInterfaces, fwmark: f.fwmark };
    const extras = [
      d !== destination ? `to ${d}` : "",
      p !== protocol ? p : "",
      criteriaCount(criteria) > 0 ? "with that rule's ports, interfaces and mark" : "",
    ].filter(Boolean);
    const narrower =
      s !== source || extras.length > 0
        ? ` (only the part of the line's traffic that rule matches${extras.length > 0 ? `: ${extras.join(", ")}` : ""})`
        : "";
    out.push({
      src,
      fields: {
        source: { kind: "cidrs", cidrs: [s] },
        destinations: d === null ? [] : [d],
        protocol: p,
        ...setCriteria(criteria),
        egress: from,
        action: f.action,
        redirect: to,
        comment,
      },
      changed,
      words: (rule) =>
        `${out.length > 1 ? "" : "imported as "}${b.ruleWords(rule)}: traffic from ${s}${fromWords} goes through ${via}, translated as the POSTROUTING rule of line ${nat.src.line} translates it there${narrower}`,
    });
    if (s === source && d === destination && p === protocol && criteriaCount(criteria) === 0) {
      whole = true;
      break;
    }
  }
  if (out.length === 0) {
    b.say(
      src,
      "not-imported",
      `not imported because no POSTROUTING rule here says how traffic from ${source} leaving through ${via} is translated; import that SNAT rule with it, or set a rule's redirect by hand`,
      changed,
    );
    return [];
  }
  if (!whole) {
    const last = out[out.length - 1] as PendingRule;
    const words = last.words;
    last.words = (rule) =>
      `${words(rule)}; the rest of the line's traffic is not redirected: no POSTROUTING rule here translates it through ${via}`;
  }
  return out;
}

import { type Fwmark, formatPortSpan, parseFwmark, parsePortSpan } from "../policy/match-criteria";
import { type Pool, type Protocol, type Rule, zInterfaceName } from "../policy/model";
import { type PolicyBuilder, safeComment } from "./builder";
import { type DnatText, importDnat, parseDnat } from "./iptables-dnat";
import { isIPv4, parseCidr } from "../address";
import { expandRange, normaliseCidr, type SourceLine, words } from "./text";

/**
 * `iptables-save` output (and `iptables -t nat -A ...` lines from scripts): the nat table's
 * POSTROUTING chain. iptables is first-match in list order, so every imported rule gets a pinned
 * priority that keeps that order. SNAT without --persistent picks the address by a hash of source
 * and destination (sdh); with --persistent by the source alone (sh). PREROUTING DNAT rules become
 * virtual services (iptables-dnat.ts).
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

/** Parses the words after `-A CHAIN`; returns a reason when the rule cannot be expressed. */
function parseRule(ws: string[]): RuleText | string {
  const r: RuleText = { persistent: false, notes: [] };
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] as string;
    const v = ws[i + 1];
    const take = () => {
      i++;
      return v ?? "";
    };
    switch (w) {
      case "!":
        return `the negation "! ${v ?? ""}" cannot be expressed in a Gatehouse rule`;
      case "-s":
      case "--source":
      case "--src":
        r.src = take();
        break;
      case "-d":
      case "--destination":
      case "--dst":
        r.dst = take();
        break;
      case "-o":
      case "--out-interface":
        r.oif = take();
        break;
      case "-p":
      case "--protocol":
        r.proto = take().toLowerCase();
        break;
      case "-j":
      case "--jump":
        r.target = take();
        break;
      case "--to-source":
        if (r.toSource !== undefined) return "several --to-source addresses cannot be expressed as one pool rule";
        r.toSource = take();
        break;
      case "--to-ports":
        r.toPorts = take();
        break;
      case "--persistent":
        r.persistent = true;
        break;
      case "--random":
      case "--random-fully":
        r.notes.push(`${w} (port randomisation) is the kernel's own business: dropped`);
        break;
      case "-m":
      case "--match": {
        const m = take();
        if (!["comment", "tcp", "udp", "icmp", "multiport", "mark"].includes(m)) {
          return `the match module "${m}" cannot be expressed in a Gatehouse rule`;
        }
        break;
      }
      case "--comment":
        r.comment = take();
        break;
      case "-i":
      case "--in-interface": {
        const name = take();
        // iptables' "eth+" is a prefix match: a rule names whole interfaces
        if (name.endsWith("+")) return `the interface pattern "${name}" cannot be expressed: name each interface`;
        r.iif = name;
        break;
      }
      case "--dport":
      case "--destination-port":
      case "--dports":
      case "--destination-ports":
        if (r.dports !== undefined) return "two destination port matches cannot be expressed as one rule";
        r.dports = take().split(",");
        break;
      case "--mark":
        r.mark = take();
        break;
      case "--sport":
      case "--source-port":
      case "--sports":
      case "--source-ports":
      case "--ports":
        return `a source port match (${w}) cannot be expressed: Gatehouse rules match destination ports only`;
      default:
        if (/^\[\d+:\d+\]$/.test(w)) break; // iptables-save -c counters
        return `the option "${w}" cannot be expressed in a Gatehouse rule`;
    }
  }
  return r;
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
  let pinnedAny = false;
  const dnat: DnatText[] = [];
  const chroutes: Array<{ src: SourceLine; text: ChrouteText; priority: number | null }> = [];
  const natRules: Array<{ src: SourceLine; rule: Rule }> = [];
  // a CHROUTE decides the route before any NAT rule is read: its rules come first, in file order
  const reserved = lines.filter((l) => /\bCHROUTE\b/.test(l.text) && !l.text.trim().startsWith("#")).map(() => b.pin());
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
      else
        chroutes.push({
          src,
          text: parsed,
          priority: chroutes.length < reserved.length ? (reserved[chroutes.length] ?? null) : b.pin(),
        });
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
    pinnedAny = true;
    const rule = b.rule({
      priority: b.pin(),
      source: { kind: "cidrs", cidrs: [source] },
      destinations: dest && dest !== "0.0.0.0/0" ? [dest] : [],
      protocol,
      ...criteria,
      egress,
      action,
      comment: parsed.comment ? safeComment(parsed.comment) : `iptables line ${src.line}`,
    });
    natRules.push({ src, rule });
    const why =
      target === "MASQUERADE"
        ? ` (MASQUERADE: the current address of ${parsed.oif ?? "the interface"})`
        : target === "SNAT"
          ? parsed.persistent
            ? " (--persistent: same address per source)"
            : " (no --persistent: hash of source and destination)"
          : "";
    b.say(
      src,
      "imported",
      `imported as ${b.ruleWords(rule)}${why}${merged ? `; addresses merged with ${merged}` : ""}${parsed.notes.length ? `; ${parsed.notes.join("; ")}` : ""}`,
      changed,
    );
  }
  for (const c of chroutes) pinnedAny = importChroute(b, c, natRules) || pinnedAny;
  importDnat(b, dnat);
  if (pinnedAny && b.existing.settings.ruleOrder !== "list") {
    b.notes.push(
      "iptables rules match first in list order: the imported rules got priorities 10 apart that keep that order",
    );
  }
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

function parseChroute(ws: string[]): ChrouteText | string {
  const r: ChrouteText = {};
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] as string;
    const take = () => ws[++i] ?? "";
    switch (w) {
      case "!":
        return `the negation "! ${ws[i + 1] ?? ""}" cannot be expressed in a Gatehouse rule`;
      case "-s":
      case "--source":
      case "--src":
        r.src = take();
        break;
      case "-d":
      case "--destination":
      case "--dst":
        r.dst = take();
        break;
      case "-p":
      case "--protocol":
        r.proto = take().toLowerCase();
        break;
      case "-j":
      case "--jump":
        take();
        break;
      case "--gw":
      case "--new-gw":
        r.gw = take();
        break;
      case "--old-gw":
        r.oldGw = take();
        break;
      case "-m":
      case "--match": {
        const m = take();
        if (m !== "comment" && m !== "tcp" && m !== "udp" && m !== "icmp") {
          return `the match module "${m}" cannot be expressed in a Gatehouse rule`;
        }
        break;
      }
      case "--comment":
        r.comment = take();
        break;
      default:
        if (/^\[\d+:\d+\]$/.test(w)) break;
        return `the CHROUTE option "${w}" cannot be expressed in a Gatehouse rule`;
    }
  }
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

function importChroute(
  b: PolicyBuilder,
  c: { src: SourceLine; text: ChrouteText; priority: number | null },
  natRules: ReadonlyArray<{ src: SourceLine; rule: Rule }>,
): boolean {
  const { src, text } = c;
  const changed: string[] = [];
  const source = normaliseCidr(text.src ?? "0.0.0.0/0", changed);
  const dest = text.dst === undefined ? null : normaliseCidr(text.dst, changed);
  if (!source || (text.dst !== undefined && !dest)) {
    b.say(src, "not-imported", `not imported because ${!source ? text.src : text.dst} is not a network`, changed);
    return false;
  }
  const protocol = text.proto === undefined ? "any" : PROTOCOLS[text.proto];
  if (!protocol) {
    b.say(src, "not-imported", `not imported because protocol "${text.proto}" is not tcp, udp, icmp or all`, changed);
    return false;
  }
  const to = b.ispFor(src, undefined, text.gw);
  const from = text.oldGw === undefined ? "any" : b.ispFor(src, undefined, text.oldGw);
  if (to === null || from === null) {
    b.say(src, "question", "needs an answer (see the questions) to know the ISP of its gateways", changed);
    return false;
  }
  if (to === "any") return false; // parseChroute requires --gw
  if (from !== "any" && from.id === to.id) {
    b.say(
      src,
      "not-imported",
      `not imported because --old-gw and --gw are both ISP "${to.name}": nothing is redirected`,
      changed,
    );
    return false;
  }
  const destination = dest && dest !== "0.0.0.0/0" ? dest : null;
  const nat = natRules.find(({ rule }) => {
    const ruleSource = rule.source.kind === "cidrs" ? (rule.source.cidrs[0] ?? null) : null;
    return (
      (rule.egressIspId === null || rule.egressIspId === to.id) &&
      covers(ruleSource, source) &&
      covers(rule.destinations[0] ?? null, destination) &&
      (rule.protocol === "any" || rule.protocol === protocol)
    );
  });
  const via = `${to.name} (gw ${text.gw})`;
  const fromWords = from === "any" ? "" : ` that would leave through ${from.name} (old gw ${text.oldGw})`;
  if (nat === undefined) {
    b.say(
      src,
      "not-imported",
      `not imported because no POSTROUTING rule here says how traffic from ${source} leaving through ${via} is translated; import that SNAT rule with it, or set a rule's redirect by hand`,
      changed,
    );
    return false;
  }
  const rule = b.rule({
    priority: c.priority,
    source: { kind: "cidrs", cidrs: [source] },
    destinations: destination === null ? [] : [destination],
    protocol,
    egress: from,
    action: nat.rule.action,
    redirect: to,
    comment: text.comment ? safeComment(text.comment) : `CHROUTE line ${src.line}`,
  });
  b.say(
    src,
    "imported",
    `imported as ${b.ruleWords(rule)}: traffic from ${source}${fromWords} goes through ${via}, translated as the POSTROUTING rule of line ${nat.src.line} translates it there`,
    changed,
  );
  return true;
}

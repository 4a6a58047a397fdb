import { type Fwmark, formatFwmark, parseFwmark } from "../policy/match-criteria";
import type { Isp, Rule } from "../policy/model";
import {
  MAX_PERSISTENCE_SECONDS,
  MAX_REAL_SERVERS,
  type RealServer,
  type VsProtocol,
  zHealthCheck,
} from "../policy/virtual-service";
import { type PolicyBuilder, parseAlgorithm } from "./builder";
import { expandRange, normaliseCidr, type SourceLine, stripComment, words } from "./text";
import { readHostPort, readScheduler, readServiceMark, readWeight } from "./vs-text";

/**
 * `ipvsadm -S` / `ipvsadm-save -n` output, and the same commands as kept in scripts (a leading
 * `ipvsadm`, comments, blank lines), with the lvs-snat and dsnat SNAT extensions:
 *
 *   -A -f 1 -s snat_sched                      lvs-snat's SNAT service (nothing to import by itself)
 *   -K -F from -T to -W gw --oif if -U a-b -O sh|sdh|random -N new_gw [-f mark]   lvs-snat SNAT rule
 *   -P -f 1 -z address                         a local address, used by -K rules without -U
 *   -K --zone CIDR                             dsnat zone (first match, in the order given)
 *   -P --zone CIDR -z address[-b]              a local address of that zone (round robin)
 *
 * and virtual services: `-A -t|-u VIP:PORT -s SCHED [-p [T]]` with their real servers
 * `-a -t|-u VIP:PORT -r RIP[:PORT] -g|-m -w W` (port 0 with -p: every port), and services chosen
 * by the operator's firewall mark, `-A -f MARK -s SCHED [-p [T]]` with `-a -f MARK -r RIP[:PORT] -m`
 * (the mark in the operator's bits, 0xf0000000, as rules read it).
 *
 * lvs-snat orders rules by the most specific source, as Gatehouse does, so its rules keep automatic
 * order; dsnat zones are first-match, so they get pinned priorities in their order.
 */

interface Parsed {
  cmd: string;
  opts: Map<string, string>;
  flags: Set<string>;
  unknown: string[];
}

const TAKES_VALUE = new Set([
  "-t",
  "-u",
  "-f",
  "-s",
  "-p",
  "-M",
  "-r",
  "-w",
  "-x",
  "-y",
  "-F",
  "-T",
  "-W",
  "--oif",
  "-U",
  "-O",
  "-N",
  "-z",
  "--zone",
  "--pe",
  "-b",
]);
const FLAGS = new Set(["-g", "-i", "-m", "-n", "--numeric", "-o", "--ops"]);
const LONG: Record<string, string> = {
  "--add-service": "-A",
  "--edit-service": "-E",
  "--delete-service": "-D",
  "--add-server": "-a",
  "--edit-server": "-e",
  "--delete-server": "-d",
  "--clear": "-C",
  "--tcp-service": "-t",
  "--udp-service": "-u",
  "--fwmark-service": "-f",
  "--scheduler": "-s",
  "--persistent": "-p",
  "--real-server": "-r",
  "--weight": "-w",
  "--gatewaying": "-g",
  "--ipip": "-i",
  "--masquerading": "-m",
  "--netmask": "-M",
  "--u-threshold": "-x",
  "--l-threshold": "-y",
  "--sched-flags": "-b",
};
const COMMANDS = new Set(["-A", "-E", "-D", "-a", "-e", "-d", "-C", "-K", "-P", "-Z", "-R", "-S", "-L", "-l"]);

function parseWords(ws: string[]): Parsed {
  const p: Parsed = { cmd: "", opts: new Map(), flags: new Set(), unknown: [] };
  for (let i = 0; i < ws.length; i++) {
    const w0 = ws[i] as string;
    const w = LONG[w0] ?? w0;
    if (COMMANDS.has(w) && p.cmd === "") p.cmd = w;
    else if (TAKES_VALUE.has(w)) {
      const v = ws[i + 1];
      // -p takes an optional timeout
      if (w === "-p" && (v === undefined || v.startsWith("-"))) p.opts.set(w, "");
      else {
        p.opts.set(w, v ?? "");
        i++;
      }
    } else if (FLAGS.has(w)) p.flags.add(w);
    else p.unknown.push(w0);
  }
  return p;
}

interface SnatRuleText {
  src: SourceLine;
  from?: string;
  to?: string;
  gw?: string;
  oif?: string;
  range?: string;
  algo?: string;
  newGw?: string;
  /** the fwmark service the rule belongs to (-f), when the line names one */
  fwmark?: string;
}

export function importIpvsadm(b: PolicyBuilder, lines: SourceLine[]) {
  b.addLines(lines);
  const snatRules: SnatRuleText[] = [];
  const localAddrs: Array<{ src: SourceLine; range: string; changed: string[] }> = [];
  const zones: Array<{ src: SourceLine; cidr: string; changed: string[] }> = [];
  const zoneAddrs: Array<{ src: SourceLine; zone: string; range: string; changed: string[] }> = [];
  const services: ServiceText[] = [];
  const servers: ServerText[] = [];
  // the marks of lvs-snat's SNAT services: not services to import
  const snatMarks = new Set(
    lines.flatMap((l) => {
      const m =
        /(?:^|\s)(?:-A|--add-service)\s.*(?:-f|--fwmark-service)\s+(\S+).*(?:-s|--scheduler)\s+snat_sched\b/.exec(
          l.text,
        );
      return m?.[1] === undefined ? [] : [m[1]];
    }),
  );

  for (const src of lines) {
    const body = stripComment(src.text).trim();
    if (body === "") {
      b.say(src, "ignored", src.text.trim() === "" ? "blank line" : "comment");
      continue;
    }
    let ws = words(body);
    while (ws[0] === "sudo" || /(^|\/)ipvsadm(-restore)?$/.test(ws[0] ?? "")) ws = ws.slice(1);
    if (ws.length === 0) {
      b.say(src, "ignored", "ipvsadm without arguments lists the table: nothing to import");
      continue;
    }
    const p = parseWords(ws);
    if (p.unknown.length > 0) {
      b.say(
        src,
        "not-imported",
        `not imported because ${p.unknown.map((u) => `"${u}"`).join(", ")} is not an ipvsadm option the import knows`,
      );
      continue;
    }
    switch (p.cmd) {
      case "-C":
        b.say(src, "ignored", "clears the IPVS table: nothing to import");
        break;
      case "-L":
      case "-l":
      case "-S":
      case "-Z":
      case "-R":
        b.say(src, "ignored", "lists, saves, restores or zeroes counters: nothing to import");
        break;
      case "-A":
        if (p.opts.get("-s") === "snat_sched") {
          b.say(
            src,
            "ignored",
            `lvs-snat's SNAT service (fwmark ${p.opts.get("-f") ?? "?"}): Gatehouse needs no service for SNAT; its -K rules are imported`,
          );
        } else readService(b, src, p, services);
        break;
      case "-a":
        if (p.opts.has("-f") && snatMarks.has(p.opts.get("-f") ?? "")) {
          b.say(
            src,
            "ignored",
            `a real server of lvs-snat's SNAT service (fwmark ${p.opts.get("-f")}): Gatehouse needs no service for SNAT`,
          );
        } else readServer(b, src, p, servers);
        break;
      case "-E":
      case "-e":
        b.say(
          src,
          "not-imported",
          `not imported because ${p.cmd} edits a ${p.cmd === "-E" ? "service" : "real server"} an earlier command made: import the -A/-a lines (ipvsadm -Sn) instead`,
        );
        break;
      case "-D":
      case "-d":
        b.say(src, "not-imported", "not imported because it deletes: an import only adds");
        break;
      case "-K": {
        const zone = p.opts.get("--zone");
        if (zone !== undefined) {
          const changed: string[] = [];
          const cidr = normaliseCidr(zone, changed);
          if (!cidr) b.say(src, "not-imported", `not imported because "${zone}" is not a network`);
          else zones.push({ src, cidr, changed });
          break;
        }
        const rule: SnatRuleText = { src };
        rule.from = p.opts.get("-F");
        rule.to = p.opts.get("-T");
        rule.gw = p.opts.get("-W");
        rule.oif = p.opts.get("--oif");
        rule.range = p.opts.get("-U");
        rule.algo = p.opts.get("-O");
        rule.newGw = p.opts.get("-N");
        rule.fwmark = p.opts.get("-f");
        snatRules.push(rule);
        break;
      }
      case "-P": {
        const addr = p.opts.get("-z");
        const changed: string[] = [];
        const range = addr === undefined ? null : expandRange(addr, changed);
        if (range === null) {
          b.say(src, "not-imported", `not imported because "${addr ?? ""}" (-z) is not an address or range`);
          break;
        }
        const zone = p.opts.get("--zone");
        if (zone !== undefined) {
          const zc: string[] = [];
          zoneAddrs.push({ src, zone: normaliseCidr(zone, zc) ?? zone, range, changed: [...zc, ...changed] });
        } else localAddrs.push({ src, range, changed });
        break;
      }
      default:
        b.say(src, "not-imported", "not imported because it has no ipvsadm command (-A, -a, -K, -P ...)");
    }
  }

  importLvsSnatRules(b, snatRules, localAddrs);
  importDsnatZones(b, zones, zoneAddrs);
  importServices(b, services, servers);
}

interface ServiceText {
  src: SourceLine;
  key: string;
  protocol: VsProtocol;
  /** null: chosen by fwmark */
  address: string | null;
  fwmark: Fwmark | null;
  port: number | null;
  fields: { scheduler: ReturnType<typeof readScheduler>; persistenceSeconds: number };
  notes: string[];
}

interface ServerText {
  src: SourceLine;
  key: string;
  server: RealServer;
  notes: string[];
}

interface ServiceRef {
  key: string;
  protocol: VsProtocol;
  address: string | null;
  fwmark: Fwmark | null;
  /** null for a service chosen by fwmark; 0: every port */
  port: number | null;
}

/** The service a -A or -a line names: protocol, address and port, or the mark; or why it cannot be read. */
function serviceOf(p: Parsed): ServiceRef | string {
  const fwmark = p.opts.get("-f");
  if (fwmark !== undefined) {
    const m = readServiceMark(fwmark);
    if ("reason" in m) return m.reason;
    const mark = m.mark;
    return { key: `fwmark/${mark.value}/${mark.mask}`, protocol: "any", address: null, fwmark: mark, port: null };
  }
  const t = p.opts.get("-t");
  const u = p.opts.get("-u");
  const text = t ?? u;
  if (text === undefined) return "it names no service (-t, -u or -f)";
  const hp = readHostPort(text);
  if (!hp || hp.port === undefined) {
    return `"${text}" is not address:port (host and service names are not resolved: save with ipvsadm -Sn)`;
  }
  const protocol = t !== undefined ? "tcp" : "udp";
  return { key: `${protocol}/${hp.address}/${hp.port}`, protocol, address: hp.address, fwmark: null, port: hp.port };
}

/** A service's key, with every port (port 0) as its own key. */
const keyOf = (svc: ServiceRef) => (svc.port === 0 ? `${svc.protocol}/${svc.address}/all` : svc.key);

function readService(b: PolicyBuilder, src: SourceLine, p: Parsed, out: ServiceText[]) {
  const svc = serviceOf(p);
  if (typeof svc === "string") return b.say(src, "not-imported", `not imported because ${svc}`);
  const notes: string[] = [];
  const scheduler = readScheduler(p.opts.get("-s") ?? "wlc");
  if (!p.opts.has("-s")) notes.push("no -s given: ipvsadm's default wlc");
  let persistenceSeconds = 0;
  const pText = p.opts.get("-p");
  if (pText !== undefined) {
    persistenceSeconds = pText === "" ? 300 : Number(pText);
    if (!/^\d*$/.test(pText) || persistenceSeconds < 1 || persistenceSeconds > MAX_PERSISTENCE_SECONDS) {
      return b.say(
        src,
        "not-imported",
        `not imported because -p "${pText}" is not 1..${MAX_PERSISTENCE_SECONDS} seconds`,
      );
    }
    if (pText === "") notes.push("-p without a timeout: ipvsadm's 300 seconds");
  }
  if (svc.port === 0 && persistenceSeconds === 0) {
    return b.say(src, "not-imported", "not imported because port 0 (every port) needs persistence (-p)");
  }
  const mask = p.opts.get("-M");
  if (mask !== undefined && mask !== "255.255.255.255" && mask !== "32") {
    notes.push(`persistence netmask -M ${mask} not kept: persistence is per client address`);
  }
  for (const o of ["--pe", "-b"]) {
    if (p.opts.has(o)) notes.push(`${o} ${p.opts.get(o)} not kept: it has no equivalent`);
  }
  if (p.flags.has("-o") || p.flags.has("--ops")) notes.push("one-packet scheduling (-o) not kept");
  out.push({
    src,
    key: keyOf(svc),
    protocol: svc.protocol,
    address: svc.address,
    fwmark: svc.fwmark,
    port: svc.port === 0 ? null : svc.port,
    fields: { scheduler, persistenceSeconds },
    notes,
  });
}

function readServer(b: PolicyBuilder, src: SourceLine, p: Parsed, out: ServerText[]) {
  const svc = serviceOf(p);
  if (typeof svc === "string") {
    const reason = p.opts.has("-f")
      ? `it is a real server of fwmark service ${p.opts.get("-f")}, which is not imported: ${svc}`
      : svc;
    return b.say(src, "not-imported", `not imported because ${reason}`);
  }
  const rText = p.opts.get("-r") ?? "";
  const rs = readHostPort(rText);
  if (!rs) return b.say(src, "not-imported", `not imported because -r "${rText}" is not address[:port]`);
  if (p.flags.has("-i")) {
    return b.say(
      src,
      "not-imported",
      "not imported because IP-in-IP tunnelling (-i) is not supported: real servers are NAT (-m) or direct routing (-g)",
    );
  }
  const notes: string[] = [];
  const mode: RealServer["mode"] = p.flags.has("-m") ? "nat" : "dr";
  if (!p.flags.has("-m") && !p.flags.has("-g")) notes.push("no -g/-m/-i given: ipvsadm's default direct routing (-g)");
  const w = readWeight(p.opts.get("-w"));
  if (!w) return b.say(src, "not-imported", `not imported because -w "${p.opts.get("-w")}" is not a weight 0..65535`);
  if (w.note) notes.push(w.note);
  for (const o of ["-x", "-y"]) {
    if (p.opts.has(o)) notes.push(`connection threshold ${o} ${p.opts.get(o)} not kept: it has no equivalent`);
  }
  // an fwmark service sends a connection to the real server's port, or the one it came to when none is given
  let port: number | null = rs.port === undefined || rs.port === 0 || rs.port === svc.port ? null : rs.port;
  if (mode === "dr" && port !== null) {
    notes.push(`port ${port} not kept: direct routing cannot change the port`);
    port = null;
  }
  out.push({
    src,
    key: keyOf(svc),
    server: { address: rs.address, port, weight: w.weight, mode, state: w.state },
    notes,
  });
}

const withNotes = (notes: string[]) => (notes.length ? `; ${notes.join("; ")}` : "");

function importServices(b: PolicyBuilder, services: ServiceText[], servers: ServerText[]) {
  const seen = new Map<string, ServiceText>();
  for (const s of services) {
    const first = seen.get(s.key);
    if (first) {
      b.say(s.src, "ignored", `the same service as line ${first.src.line}: the first one is kept`);
      continue;
    }
    seen.set(s.key, s);
  }
  const byService = new Map<string, ServerText[]>();
  for (const r of servers) {
    if (!seen.has(r.key)) b.say(r.src, "not-imported", "not imported because no -A line adds its service");
    else {
      const list = byService.get(r.key);
      if (list) list.push(r);
      else byService.set(r.key, [r]);
    }
  }
  for (const s of seen.values()) {
    const mine = byService.get(s.key) ?? [];
    const where =
      s.fwmark !== null
        ? `fwmark ${formatFwmark(s.fwmark)}`
        : `${s.address} ${s.protocol.toUpperCase()} ${s.port ?? "every port"}`;
    if ("reason" in s.fields.scheduler) {
      b.say(s.src, "not-imported", `not imported because ${s.fields.scheduler.reason}`);
      for (const r of mine)
        b.say(r.src, "not-imported", `not imported because its service (line ${s.src.line}) is not imported`);
      continue;
    }
    const existing = s.fwmark !== null ? b.serviceMarked(s.fwmark) : b.serviceAt(s.address ?? "", s.protocol, s.port);
    if (existing) {
      b.say(s.src, "not-imported", `not imported because ${existing.words} already answers on ${where}`);
      for (const r of mine)
        b.say(r.src, "not-imported", `not imported because its service (line ${s.src.line}) is not imported`);
      continue;
    }
    if (mine.length === 0) {
      b.say(s.src, "not-imported", "not imported because it has no real servers (-a lines)");
      continue;
    }
    const kept: ServerText[] = [];
    for (const r of mine) {
      const twin = kept.find((k) => k.server.address === r.server.address);
      if (twin) b.say(r.src, "ignored", `the same real server as line ${twin.src.line}: the first one is kept`);
      else if (kept.length >= MAX_REAL_SERVERS)
        b.say(
          r.src,
          "not-imported",
          `not imported because a service may have at most ${MAX_REAL_SERVERS} real servers`,
        );
      else kept.push(r);
    }
    if (s.port === null && s.fwmark === null) for (const r of kept) r.server.port = null;
    const vs = b.virtualService({
      address: s.address,
      fwmark: s.fwmark,
      protocol: s.protocol,
      port: s.port,
      scheduler: s.fields.scheduler.scheduler,
      persistenceSeconds: s.fields.persistenceSeconds,
      sorryServer: null,
      fullNat: false,
      realServers: kept.map((r) => r.server),
      healthCheck: zHealthCheck.parse({ kind: "none" }),
      enabled: true,
      comment: `ipvsadm line ${s.src.line}`,
    });
    if ("problems" in vs) {
      b.say(s.src, "not-imported", `not imported because ${vs.problems.join("; ")}`);
      for (const r of kept)
        b.say(r.src, "not-imported", `not imported because its service (line ${s.src.line}) is not imported`);
      continue;
    }
    const notes = s.fields.scheduler.note ? [s.fields.scheduler.note, ...s.notes] : s.notes;
    b.say(s.src, "imported", `imported as ${b.vsWords(vs)}; no health check (ipvsadm has none)${withNotes(notes)}`);
    for (const r of kept) {
      const rs = r.server;
      b.say(
        r.src,
        "merged",
        `real server ${rs.address}${rs.port === null ? "" : `:${rs.port}`} of virtual service "${vs.name}" (line ${s.src.line})${withNotes(r.notes)}`,
      );
    }
  }
}

function importLvsSnatRules(
  b: PolicyBuilder,
  rules: SnatRuleText[],
  localAddrs: Array<{ src: SourceLine; range: string; changed: string[] }>,
) {
  let localPool: { isp: Isp; poolId: string } | null | undefined;
  const needsLocal = rules.some((r) => r.range === undefined);
  if (!needsLocal) {
    for (const l of localAddrs) {
      b.say(
        l.src,
        "not-imported",
        "not imported because every -K rule names its own addresses (-U): no rule uses it",
        l.changed,
      );
    }
  }
  // one SNAT service's mark only brings traffic to lvs-snat, which Gatehouse classifies anyway;
  // rules of several services are told apart by the operator's marks: those become a criterion
  const marks = new Set(rules.flatMap((r) => (r.fwmark === undefined ? [] : [r.fwmark])));
  for (const r of rules) {
    const changed: string[] = [];
    let fwmark: Fwmark | null = null;
    let markNote = "";
    if (r.fwmark !== undefined && marks.size < 2) {
      markNote = ` (fwmark ${r.fwmark} only brings traffic to lvs-snat's one SNAT service: Gatehouse needs no mark)`;
    } else if (r.fwmark !== undefined) {
      const m = parseFwmark(r.fwmark);
      if (!m.ok) {
        b.say(
          r.src,
          "not-imported",
          `not imported because its SNAT service's mark -f ${r.fwmark} tells it apart from other services, but Gatehouse reads an operator's mark in bits 0xf0000000 only (${m.error}): have your own rules set the mark there (say 0x10000000) and import again`,
        );
        continue;
      }
      fwmark = m.value;
    }
    const from = normaliseCidr(r.from ?? "0.0.0.0/0", changed);
    const to = r.to === undefined ? "0.0.0.0/0" : normaliseCidr(r.to, changed);
    const algorithm = parseAlgorithm(r.algo ?? "sh");
    if (!from || !to) {
      b.say(
        r.src,
        "not-imported",
        `not imported because ${!from ? `-F "${r.from}"` : `-T "${r.to}"`} is not a network`,
        changed,
      );
      continue;
    }
    if (!algorithm) {
      b.say(
        r.src,
        "not-imported",
        `not imported because -O "${r.algo}" is not an algorithm (sh, sdh, sdph, random, rr)`,
        changed,
      );
      continue;
    }
    const egress = b.ispFor(r.src, r.oif, r.gw);
    if (egress === null) {
      b.say(r.src, "question", "needs an answer (see the questions) to know its ISP", changed);
      continue;
    }
    let redirect: Isp | null = null;
    if (r.newGw !== undefined) {
      const isp = b.ispFor(r.src, undefined, r.newGw);
      if (isp === null) {
        b.say(r.src, "question", `needs an answer (see the questions) to know the ISP of new gw ${r.newGw}`, changed);
        continue;
      }
      redirect = isp === "any" ? null : isp;
    }
    let action: Rule["action"];
    let merged: string | null = null;
    if (r.range !== undefined) {
      const range = expandRange(r.range, changed);
      if (!range) {
        b.say(r.src, "not-imported", `not imported because -U "${r.range}" is not an address range`, changed);
        continue;
      }
      // the addresses leave through the ISP the rule's traffic ends up on
      const owner = redirect ?? (egress === "any" ? b.ownerFor(r.src, `the addresses ${range}`) : egress);
      if (owner === null) {
        b.say(r.src, "question", "needs an answer (see the questions) to know which ISP owns its addresses", changed);
        continue;
      }
      const got = b.poolFor([range], owner, null, `snat-${range.split("-")[0]}`);
      merged = got.merged;
      action = { type: "snat", poolId: got.pool.id, algorithm };
    } else {
      if (localPool === undefined) {
        const first = localAddrs[0];
        if (!first) localPool = null;
        else {
          const owner = egress === "any" ? b.ownerFor(first.src, "lvs-snat's local addresses (-P -z)") : egress;
          if (owner === null) localPool = null;
          else {
            const got = b.poolFor(
              localAddrs.map((l) => l.range),
              owner,
              null,
              "snat-local",
            );
            localPool = { isp: owner, poolId: got.pool.id };
            localAddrs.forEach((l, i) => {
              b.say(
                l.src,
                i === 0 && !got.merged ? "imported" : "merged",
                `${i === 0 && !got.merged ? "imported into" : "merged with"} ${got.merged ?? `new pool "${got.pool.name}"`} (the addresses of rules without -U)`,
                l.changed,
              );
            });
          }
        }
      }
      if (!localPool) {
        b.say(
          r.src,
          localAddrs.length ? "question" : "not-imported",
          localAddrs.length
            ? "needs an answer (see the questions)"
            : "not imported because it has no -U address range and no local address (-P -z) is given",
          changed,
        );
        continue;
      }
      action = { type: "snat", poolId: localPool.poolId, algorithm };
    }
    const algoNote = r.algo === undefined ? " (no -O given: sh, lvs-snat's default)" : "";
    const rule = b.rule({
      priority: null,
      source: { kind: "cidrs", cidrs: [from] },
      destinations: to === "0.0.0.0/0" ? [] : [to],
      fwmark,
      egress,
      action,
      redirect,
      comment: `ipvsadm line ${r.src.line}`,
    });
    b.say(
      r.src,
      "imported",
      `imported as ${b.ruleWords(rule)}${algoNote}${markNote}${merged ? `; addresses merged with ${merged}` : ""}`,
      changed,
    );
  }
}

function importDsnatZones(
  b: PolicyBuilder,
  zones: Array<{ src: SourceLine; cidr: string; changed: string[] }>,
  zoneAddrs: Array<{ src: SourceLine; zone: string; range: string; changed: string[] }>,
) {
  const known = new Set(zones.map((z) => z.cidr));
  for (const a of zoneAddrs) {
    if (!known.has(a.zone))
      b.say(a.src, "not-imported", `not imported because zone ${a.zone} has no -K --zone line`, a.changed);
  }
  const seen = new Set<string>();
  for (const z of zones) {
    if (seen.has(z.cidr)) {
      b.say(
        z.src,
        "ignored",
        `zone ${z.cidr} was already defined on an earlier line: the first one keeps its place`,
        z.changed,
      );
      continue;
    }
    seen.add(z.cidr);
    const addrs = zoneAddrs.filter((a) => a.zone === z.cidr);
    if (addrs.length === 0) {
      b.say(
        z.src,
        "not-imported",
        `not imported because zone ${z.cidr} has no local addresses (-P --zone ${z.cidr} -z ...)`,
        z.changed,
      );
      continue;
    }
    const owner = b.ownerFor(z.src, `the local addresses of zone ${z.cidr}`);
    if (owner === null) {
      b.say(
        z.src,
        "question",
        "needs an answer (see the questions) to know which ISP owns the zone's addresses",
        z.changed,
      );
      for (const a of addrs) b.say(a.src, "question", `waits for zone ${z.cidr} (line ${z.src.line})`, a.changed);
      continue;
    }
    const name = `zone-${z.cidr.replace("/", "-")}`;
    const zone = b.zone(name, [z.cidr], `dsnat zone, ipvsadm line ${z.src.line}`);
    const got = b.poolFor(
      addrs.map((a) => a.range),
      owner,
      null,
      `${name}-laddr`,
    );
    const rule = b.rule({
      priority: b.pin(),
      source: { kind: "zone", zoneId: zone.id },
      egress: "any",
      action: { type: "snat", poolId: got.pool.id, algorithm: "rr" },
      comment: `dsnat zone ${z.cidr}, ipvsadm line ${z.src.line}`,
    });
    b.say(
      z.src,
      "imported",
      `imported as zone "${zone.name}" and ${b.ruleWords(rule)} (dsnat zones match first in their order)`,
      z.changed,
    );
    for (const a of addrs) {
      b.say(
        a.src,
        "merged",
        `merged with ${got.merged ?? `new pool "${got.pool.name}"`} of zone "${zone.name}"`,
        a.changed,
      );
    }
  }
}

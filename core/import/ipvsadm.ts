import type { Isp, Rule } from "../policy/model";
import { type PolicyBuilder, parseAlgorithm } from "./builder";
import { expandRange, normaliseCidr, type SourceLine, stripComment, words } from "./text";

/**
 * `ipvsadm -S` / `ipvsadm-save -n` output, and the same commands as kept in scripts (a leading
 * `ipvsadm`, comments, blank lines), with the lvs-snat and dsnat SNAT extensions:
 *
 *   -A -f 1 -s snat_sched                      lvs-snat's SNAT service (nothing to import by itself)
 *   -K -F from -T to -W gw --oif if -U a-b -O sh|sdh|random -N new_gw     lvs-snat SNAT rule
 *   -P -f 1 -z address                         a local address, used by -K rules without -U
 *   -K --zone CIDR                             dsnat zone (first match, in the order given)
 *   -P --zone CIDR -z address[-b]              a local address of that zone (round robin)
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
const FLAGS = new Set(["-g", "-i", "-m", "-n", "--numeric"]);
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
}

export function importIpvsadm(b: PolicyBuilder, lines: SourceLine[]) {
  b.addLines(lines);
  const snatRules: SnatRuleText[] = [];
  const localAddrs: Array<{ src: SourceLine; range: string; changed: string[] }> = [];
  const zones: Array<{ src: SourceLine; cidr: string; changed: string[] }> = [];
  const zoneAddrs: Array<{ src: SourceLine; zone: string; range: string; changed: string[] }> = [];

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
      case "-E":
        if (p.opts.get("-s") === "snat_sched") {
          b.say(
            src,
            "ignored",
            `lvs-snat's SNAT service (fwmark ${p.opts.get("-f") ?? "?"}): Gatehouse needs no service for SNAT; its -K rules are imported`,
          );
        } else b.say(src, "not-imported", "not imported: virtual services are not supported yet");
        break;
      case "-a":
      case "-e":
        b.say(src, "not-imported", "not imported: virtual services (and their real servers) are not supported yet");
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
  for (const r of rules) {
    const changed: string[] = [];
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
      egress,
      action,
      redirect,
      comment: `ipvsadm line ${r.src.line}`,
    });
    b.say(
      r.src,
      "imported",
      `imported as ${b.ruleWords(rule)}${algoNote}${merged ? `; addresses merged with ${merged}` : ""}`,
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

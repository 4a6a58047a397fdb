import type { Isp } from "../policy/model";
import { type PolicyBuilder, parseAlgorithm } from "./builder";
import { importVirtualServer, importVirtualServerGroup, importVrrp } from "./keepalived-vs";
import { expandRange, normaliseCidr, type SourceLine, sourceLines, stripComment, words } from "./text";
import { IMPORT_LIMITS, ImportError, type ImportOptions } from "./types";

/**
 * keepalived.conf with `include`s, as lvs-snat and dsnat extend it:
 *
 *   snat_rule { from CIDR  to CIDR  gw IP  oif IF  snat_ip a-b  algo sh|sdh|random  new_gw IP }
 *   local_address_group NAME { a  a-b ... }           dsnat local addresses
 *   zone NAME|CIDR { CIDR ...  (or: network CIDR)  laddr_group_name NAME }   dsnat zone, first match in order
 *
 * `virtual_server` (other than lvs-snat's SNAT service) becomes a virtual service and
 * `vrrp_instance` / `vrrp_sync_group` the cluster's HA settings (keepalived-vs.ts). Includes are
 * read through the caller's reader, must resolve inside the given directory, and may not loop.
 */

export interface Block {
  name: string;
  args: string[];
  src: SourceLine;
  children: Block[] | null;
  /** the line that closes the block */
  close: SourceLine | null;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/** Joins and normalises a POSIX path; null when `..` climbs above the root. */
export function resolvePath(from: string, path: string): string | null {
  const joined = path.startsWith("/") ? path : `${from}/${path}`;
  const out: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  return `${joined.startsWith("/") ? "/" : ""}${out.join("/")}`;
}

function inside(dir: string, path: string): boolean {
  const d = resolvePath(".", dir);
  if (d === null) return false;
  if (d === "") return !path.startsWith("/");
  if (d === "/") return path.startsWith("/");
  return path === d || path.startsWith(`${d}/`);
}

interface ParseState {
  b: PolicyBuilder;
  opts: ImportOptions;
  notes: string[];
  stack: string[];
  includes: number;
  baseDir: string;
}

/** Parses a file into blocks, splicing includes in place. Lines are registered with the builder. */
function parseFile(st: ParseState, file: string, text: string): Block[] {
  const lines = sourceLines(text, file, st.notes);
  const root: Block[] = [];
  const open: Block[] = [];
  const add = (blk: Block) => {
    const parent = open.at(-1);
    if (parent?.children) parent.children.push(blk);
    else root.push(blk);
  };
  for (const src of lines) {
    // registered as read, so an included file's lines follow its include line
    st.b.addLines([src]);
    const body = stripComment(src.text, "#!").trim();
    if (body === "") {
      st.b.say(src, "ignored", src.text.trim() === "" ? "blank line" : "comment");
      continue;
    }
    // one statement per line; braces may be alone or at the end
    const ws = words(body.replace(/([{}])/g, " $1 "));
    if (ws[0] === "}") {
      const blk = open.pop();
      if (!blk) st.b.say(src, "not-imported", "not imported because this '}' closes no block");
      else blk.close = src;
      continue;
    }
    const name = ws[0] as string;
    const opens = ws.includes("{");
    const args = ws.slice(1).filter((w) => w !== "{" && w !== "}");
    if (name === "include" && !opens) {
      for (const blk of include(st, file, src, args)) add(blk);
      continue;
    }
    const blk: Block = { name, args, src, children: opens ? [] : null, close: null };
    add(blk);
    if (opens && !ws.includes("}")) open.push(blk);
    else if (opens) blk.close = src;
  }
  for (const blk of open)
    st.b.say(blk.src, "not-imported", `not imported because the block "${blk.name}" is never closed`);
  return root;
}

function include(st: ParseState, file: string, src: SourceLine, args: string[]): Block[] {
  const target = args[0];
  if (!target || args.length > 1) {
    st.b.say(src, "not-imported", "not imported because include takes one path");
    return [];
  }
  if (/[*?[]/.test(target)) {
    st.b.say(
      src,
      "not-imported",
      `not imported because the wildcard include "${target}" is not expanded: include the files by name or paste them`,
    );
    return [];
  }
  if (!st.opts.readFile) {
    st.b.say(
      src,
      "not-imported",
      `not imported because the included file ${target} was not given: upload or paste it too`,
    );
    return [];
  }
  const path = resolvePath(dirname(file), target);
  if (path === null || !inside(st.baseDir, path)) {
    throw new ImportError(
      `${file} line ${src.line}: include ${target} is outside ${st.baseDir}; includes must stay in that directory`,
    );
  }
  if (st.stack.includes(path)) {
    throw new ImportError(`${file} line ${src.line}: include ${target} loops (${[...st.stack, path].join(" -> ")})`);
  }
  if (st.stack.length >= IMPORT_LIMITS.maxIncludeDepth) {
    throw new ImportError(`${file} line ${src.line}: includes nest deeper than ${IMPORT_LIMITS.maxIncludeDepth} files`);
  }
  if (++st.includes > IMPORT_LIMITS.maxIncludes) {
    throw new ImportError(`more than ${IMPORT_LIMITS.maxIncludes} included files`);
  }
  const text = st.opts.readFile(path);
  if (text === null) {
    st.b.say(src, "not-imported", `not imported because the included file ${path} does not exist`);
    return [];
  }
  st.b.say(src, "merged", `reads ${path}: its lines follow, numbered in that file`);
  st.stack.push(path);
  try {
    return parseFile(st, path, text);
  } finally {
    st.stack.pop();
  }
}

/** Every line of a block, for blocks reported as a whole. */
function allLines(blk: Block): SourceLine[] {
  const out = [blk.src];
  for (const c of blk.children ?? []) out.push(...allLines(c));
  if (blk.close && blk.close !== blk.src) out.push(blk.close);
  return out;
}

function sayAll(b: PolicyBuilder, blk: Block, status: "not-imported" | "ignored", message: string) {
  for (const l of allLines(blk)) if (!b.has(l)) b.say(l, status, message);
}

export function importKeepalived(b: PolicyBuilder, text: string, opts: ImportOptions, notes: string[]) {
  const file = opts.fileName ?? "keepalived.conf";
  const baseDir = opts.baseDir ?? dirname(resolvePath(".", file) ?? file);
  const st: ParseState = { b, opts, notes, stack: [resolvePath(".", file) ?? file], includes: 0, baseDir };
  const blocks = parseFile(st, resolvePath(".", file) ?? file, text);

  const groups = new Map<string, { blk: Block; ranges: string[] }>();
  const zones: Block[] = [];
  const snatRules: Block[] = [];
  const services: Block[] = [];
  const instances: Block[] = [];
  const syncGroups: Block[] = [];
  const vsGroups = new Map<string, Block>();

  const walk = (list: Block[]) => {
    for (const blk of list) {
      switch (blk.name) {
        case "snat_rule":
          snatRules.push(blk);
          break;
        case "local_address_group": {
          const ranges: string[] = [];
          for (const c of blk.children ?? []) {
            const changed: string[] = [];
            const r = c.children === null && c.args.length === 0 ? expandRange(c.name, changed) : null;
            if (r) {
              ranges.push(r);
              b.say(c.src, "merged", `address of local_address_group ${blk.args[0] ?? ""}`, changed);
            } else sayAll(b, c, "not-imported", `not imported because "${c.name}" is not an address or range`);
          }
          groups.set(blk.args[0] ?? "", { blk, ranges });
          break;
        }
        case "zone":
          zones.push(blk);
          break;
        case "virtual_server": {
          const kids = blk.children ?? [];
          const snat =
            kids.some((c) => c.name === "snat_rule") ||
            kids.some((c) => c.name === "lb_algo" && c.args[0] === "snat_sched");
          if (!snat) {
            services.push(blk);
            break;
          }
          b.say(
            blk.src,
            "ignored",
            "lvs-snat's SNAT service: Gatehouse needs no service for SNAT; its snat_rule blocks are imported",
          );
          if (blk.close && blk.close !== blk.src) b.say(blk.close, "ignored", "end of the SNAT service");
          walk(kids.filter((c) => c.name === "snat_rule"));
          for (const c of kids.filter((c) => c.name !== "snat_rule")) {
            sayAll(b, c, "ignored", `"${c.name}" of the SNAT service has no meaning for Gatehouse's SNAT rules`);
          }
          break;
        }
        case "vrrp_instance":
          instances.push(blk);
          break;
        case "vrrp_sync_group":
          syncGroups.push(blk);
          break;
        case "virtual_server_group":
          vsGroups.set(blk.args[0] ?? "", blk);
          break;
        case "global_defs":
        case "vrrp_script":
        case "static_ipaddress":
        case "static_routes":
          sayAll(b, blk, "not-imported", `not imported: ${blk.name} has no equivalent in Gatehouse's policy`);
          break;
        default:
          sayAll(b, blk, "not-imported", `not imported because "${blk.name}" is not a block the import reads`);
      }
    }
  };
  walk(blocks);

  for (const blk of snatRules) importSnatRule(b, blk);
  importZones(b, zones, groups);
  for (const blk of services) {
    if (blk.args[0] === "group") importVirtualServerGroup(b, blk, vsGroups.get(blk.args[1] ?? ""));
    else importVirtualServer(b, blk);
  }
  for (const [name, g] of vsGroups) {
    if (!b.has(g.src))
      sayAll(b, g, "not-imported", `not imported because no virtual_server uses virtual_server_group ${name}`);
  }
  importVrrp(b, instances, syncGroups);
  for (const [name, g] of groups) {
    if (!b.has(g.blk.src))
      b.say(g.blk.src, "not-imported", `not imported because no zone uses local_address_group ${name}`);
    if (g.blk.close && !b.has(g.blk.close)) b.say(g.blk.close, "ignored", "end of the group");
  }
}

const SNAT_KEYS = new Set(["from", "to", "gw", "oif", "snat_ip", "algo", "new_gw"]);

function importSnatRule(b: PolicyBuilder, blk: Block) {
  const values = new Map<string, { value: string; src: SourceLine }>();
  const changed: string[] = [];
  for (const c of blk.children ?? []) {
    if (!SNAT_KEYS.has(c.name) || c.children !== null || c.args.length !== 1) {
      sayAll(
        b,
        c,
        "not-imported",
        `not imported because "${c.name}" is not a snat_rule setting (from to gw oif snat_ip algo new_gw)`,
      );
      continue;
    }
    values.set(c.name, { value: c.args[0] as string, src: c.src });
  }
  const fail = (status: "not-imported" | "question", message: string) => {
    b.say(blk.src, status, message, changed);
    for (const v of values.values())
      b.say(
        v.src,
        status,
        status === "question"
          ? "part of the rule above, which needs an answer"
          : "part of the rule above, not imported",
      );
    if (blk.close && blk.close !== blk.src) b.say(blk.close, "ignored", "end of snat_rule");
  };
  const from = normaliseCidr(values.get("from")?.value ?? "0.0.0.0/0", changed);
  const toText = values.get("to")?.value ?? "0.0.0.0/0";
  const to = normaliseCidr(toText, changed);
  if (!from || !to) return fail("not-imported", `not imported because ${!from ? "from" : "to"} is not a network`);
  const algorithm = parseAlgorithm(values.get("algo")?.value ?? "sh");
  if (!algorithm)
    return fail(
      "not-imported",
      `not imported because algo "${values.get("algo")?.value}" is not sh, sdh, sdph, random or rr`,
    );
  const egress = b.ispFor(blk.src, values.get("oif")?.value, values.get("gw")?.value);
  if (egress === null) return fail("question", "needs an answer (see the questions) to know its ISP");
  let redirect: Isp | null = null;
  const newGw = values.get("new_gw")?.value;
  if (newGw) {
    const r = b.ispFor(blk.src, undefined, newGw);
    if (r === null) return fail("question", `needs an answer (see the questions) to know the ISP of new_gw ${newGw}`);
    redirect = r === "any" ? null : r;
  }
  const snatIp = values.get("snat_ip")?.value;
  if (!snatIp) return fail("not-imported", "not imported because it has no snat_ip");
  const range = expandRange(snatIp, changed);
  if (!range) return fail("not-imported", `not imported because snat_ip "${snatIp}" is not an address range`);
  const owner = redirect ?? (egress === "any" ? b.ownerFor(blk.src, `the addresses ${range}`) : egress);
  if (owner === null)
    return fail("question", "needs an answer (see the questions) to know which ISP owns its addresses");
  const got = b.poolFor([range], owner, null, `snat-${range.split("-")[0]}`);
  const rule = b.rule({
    priority: null,
    source: { kind: "cidrs", cidrs: [from] },
    destinations: to === "0.0.0.0/0" ? [] : [to],
    egress,
    action: { type: "snat", poolId: got.pool.id, algorithm },
    redirect,
    comment: `snat_rule, ${blk.src.file.split("/").at(-1)} line ${blk.src.line}`,
  });
  b.say(
    blk.src,
    "imported",
    `imported as ${b.ruleWords(rule)}${got.merged ? `; addresses merged with ${got.merged}` : ""}`,
    changed,
  );
  for (const [k, v] of values) b.say(v.src, "merged", `${k} of the rule on line ${blk.src.line}`);
  if (blk.close && blk.close !== blk.src) b.say(blk.close, "ignored", "end of snat_rule");
}

function importZones(b: PolicyBuilder, zones: Block[], groups: Map<string, { blk: Block; ranges: string[] }>) {
  for (const blk of zones) {
    const networks: string[] = [];
    const changed: string[] = [];
    let groupName: string | null = null;
    const parts: SourceLine[] = [];
    let bad = false;
    const argNet = blk.args[0] ? normaliseCidr(blk.args[0], changed) : null;
    if (argNet) networks.push(argNet);
    for (const c of blk.children ?? []) {
      if ((c.name === "laddr_group_name" || c.name === "local_address_group") && c.args.length === 1) {
        groupName = c.args[0] as string;
        parts.push(c.src);
        continue;
      }
      const net = c.name === "network" && c.args.length === 1 ? c.args[0] : c.args.length === 0 ? c.name : null;
      const cidr = net ? normaliseCidr(net, changed) : null;
      if (cidr && c.children === null) {
        networks.push(cidr);
        parts.push(c.src);
      } else {
        sayAll(b, c, "not-imported", `not imported because "${c.name}" is not a network or laddr_group_name`);
        bad = true;
      }
    }
    const finish = (status: "imported" | "not-imported" | "question", message: string) => {
      b.say(blk.src, status, message, changed);
      for (const p of parts)
        b.say(
          p,
          status === "imported" ? "merged" : status,
          status === "imported" ? `part of the zone on line ${blk.src.line}` : "part of the zone above, not imported",
        );
      if (blk.close && blk.close !== blk.src) b.say(blk.close, "ignored", "end of zone");
    };
    if (networks.length === 0) {
      finish("not-imported", `not imported because zone ${blk.args[0] ?? ""} has no network`);
      continue;
    }
    const group = groupName === null ? undefined : groups.get(groupName);
    if (!group || group.ranges.length === 0) {
      finish(
        "not-imported",
        groupName === null
          ? "not imported because the zone names no local_address_group (laddr_group_name NAME)"
          : `not imported because local_address_group ${groupName} is not defined or has no addresses`,
      );
      continue;
    }
    const owner = b.ownerFor(blk.src, `local_address_group ${groupName}`);
    if (owner === null) {
      if (!b.has(group.blk.src)) b.say(group.blk.src, "question", "waits for the answer about the zones that use it");
      finish("question", "needs an answer (see the questions) to know which ISP owns its addresses");
      continue;
    }
    const zoneName = argNet ? `zone-${argNet.replace("/", "-")}` : (blk.args[0] ?? "zone");
    const zone = b.zone(zoneName, networks, `dsnat zone, ${blk.src.file.split("/").at(-1)} line ${blk.src.line}`);
    const got = b.poolFor(group.ranges, owner, null, groupName ?? "laddr");
    if (!b.has(group.blk.src)) {
      b.say(group.blk.src, "imported", `imported as ${got.merged ?? `new pool "${got.pool.name}"`}`);
    }
    const rule = b.rule({
      priority: b.pin(),
      source: { kind: "zone", zoneId: zone.id },
      egress: "any",
      action: { type: "snat", poolId: got.pool.id, algorithm: "rr" },
      comment: `dsnat zone ${zone.name}`,
    });
    finish(
      "imported",
      `imported as zone "${zone.name}" and ${b.ruleWords(rule)} (dsnat zones match first in their order)${bad ? "; some of its lines were not understood" : ""}`,
    );
  }
}

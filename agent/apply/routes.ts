import {
  type DesiredAddress,
  type DesiredIpRule,
  type DesiredRoute,
  type DesiredRouting,
  DR_OWNED_TABLES,
  OWNED_ADDRESSES,
  OWNED_TABLES,
  REROUTE_MASK,
} from "../../core/render/routes";
import { MARK_VS_DR_MASK } from "../../core/spec/marks";
import { type CommandRunner, describeFailure, ok } from "./runner";

/**
 * Brings ip rules, the ISP routing tables, on-link pool addresses and the rp_filter sysctls to
 * the desired state.
 * Idempotent (reads first, changes only what differs), adds before it deletes, touches only the
 * table ids Gatehouse owns, the ip rules of its own shape that look them up (whatever their
 * priority: the cluster may move them) and the addresses carrying its metric, and keeps going
 * after an error so one bad ISP does
 * not leave the others unconfigured.
 *
 * The "add" phase runs before a new ruleset is loaded (the rules and routes a new ruleset needs
 * must exist when it starts marking packets); the "prune" phase runs after it, when nothing
 * marks packets for removed ISPs any more.
 */

export type RoutingPhase = "add" | "prune" | "all";

export interface RoutingResult {
  /** commands that changed something */
  changes: string[];
  errors: string[];
}

export interface RuleJson {
  priority?: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  iif?: string;
  oif?: string;
}

interface RouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  table?: string;
  type?: string;
}

interface AddrJson {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; metric?: number; label?: string }>;
}

interface ListedAddress {
  address: string;
  prefix: number;
  dev: string;
  owned: boolean;
}

const inRange = (n: number, r: { from: number; to: number }) => n >= r.from && n <= r.to;
const hex = (n: number) => `0x${n.toString(16)}`;

/** ip's JSON output, or null (with the reason in errors) when it cannot be read. */
function parseJson<T>(text: string, what: string, errors: string[]): T[] | null {
  const t = text.trim();
  if (t === "") return [];
  try {
    const value: unknown = JSON.parse(t);
    if (Array.isArray(value)) return value as T[];
  } catch {
    // reported below
  }
  errors.push(`${what}: output is not a JSON array`);
  return null;
}

function ruleMatches(r: RuleJson, d: DesiredIpRule): boolean {
  const mark = r.fwmark === undefined ? undefined : Number(r.fwmark);
  // ip prints no mask when it is 0xffffffff
  const mask = r.fwmark === undefined ? undefined : r.fwmask === undefined ? 0xffffffff : Number(r.fwmask);
  const wantedMask = d.fwmark === undefined ? undefined : (d.mask ?? 0xffffffff);
  return (
    r.priority === d.priority &&
    Number(r.table) === d.table &&
    mark === d.fwmark &&
    mask === wantedMask &&
    r.oif === d.oif &&
    ruleTo(r) === d.to &&
    r.iif === undefined &&
    (r.src === undefined || r.src === "all")
  );
}

/** The single destination address of a probe rule (`to X`), as ip prints a /32 without its length. */
const ruleTo = (r: RuleJson) =>
  r.dst === undefined || r.dst === "all"
    ? undefined
    : r.dstlen === undefined || r.dstlen === 32
      ? r.dst
      : `${r.dst}/${r.dstlen}`;

/** A rule of Gatehouse's own shape (reroute by mark, or probes by oif) that looks up one of its tables. */
export function isOwnedRule(r: RuleJson): boolean {
  if (r.priority === undefined || r.iif !== undefined || (r.src !== undefined && r.src !== "all")) return false;
  if (inRange(Number(r.table), DR_OWNED_TABLES)) {
    return r.fwmark !== undefined && Number(r.fwmask ?? "0xffffffff") === MARK_VS_DR_MASK && r.oif === undefined;
  }
  if (!inRange(Number(r.table), OWNED_TABLES)) return false;
  const byMark =
    r.fwmark !== undefined &&
    Number(r.fwmask ?? "0xffffffff") === REROUTE_MASK &&
    r.oif === undefined &&
    ruleTo(r) === undefined;
  // probes: by oif, or by oif and target on an interface several ISPs share
  const byOif = r.fwmark === undefined && r.oif !== undefined;
  return byMark || byOif;
}

/** `ip rule add` for a desired rule. */
function ruleAddArgs(d: DesiredIpRule): string[] {
  const args = ["ip", "-4", "rule", "add", "priority", String(d.priority)];
  if (d.fwmark !== undefined) args.push("fwmark", `${hex(d.fwmark)}/${hex(d.mask ?? 0xffffffff)}`);
  if (d.to !== undefined) args.push("to", d.to);
  if (d.oif !== undefined) args.push("oif", d.oif);
  args.push("lookup", String(d.table));
  return args;
}

/** The arguments that select exactly this listed rule for `ip rule del`. */
function ruleSelector(r: RuleJson): string[] {
  const args = ["priority", String(r.priority)];
  if (r.src !== undefined && r.src !== "all")
    args.push("from", r.srclen === undefined ? r.src : `${r.src}/${r.srclen}`);
  const to = ruleTo(r);
  if (to !== undefined) args.push("to", to);
  if (r.fwmark !== undefined) args.push("fwmark", r.fwmask === undefined ? r.fwmark : `${r.fwmark}/${r.fwmask}`);
  if (r.iif !== undefined) args.push("iif", r.iif);
  if (r.oif !== undefined) args.push("oif", r.oif);
  if (r.table !== undefined) args.push("lookup", r.table);
  return args;
}

const routeMatches = (r: RouteJson, d: DesiredRoute) =>
  r.dst === d.dst &&
  r.gateway === d.via &&
  (d.dev === undefined || r.dev === d.dev) &&
  (r.type === undefined || r.type === "unicast");

class Reconciler {
  readonly result: RoutingResult = { changes: [], errors: [] };
  constructor(private readonly runner: CommandRunner) {}

  async run(args: string[], change = false): Promise<string | null> {
    const r = await this.runner.run(args);
    if (!ok(r)) {
      this.result.errors.push(describeFailure(r));
      return null;
    }
    if (change) this.result.changes.push(args.join(" "));
    return r.stdout;
  }

  async sysctls(desired: DesiredRouting): Promise<void> {
    for (const s of desired.sysctls) {
      const r = await this.runner.run(["sysctl", "-n", s.key]);
      if (!ok(r)) {
        // a ppp interface whose session is down: nothing to set until it comes back
        if (s.interfaceMayBeMissing === true && /No such file or directory/.test(r.stderr)) continue;
        this.result.errors.push(describeFailure(r));
        continue;
      }
      if (r.stdout.trim() === s.value) continue;
      await this.run(["sysctl", "-q", "-w", `${s.key}=${s.value}`], true);
    }
  }

  async ownedRules(): Promise<RuleJson[] | null> {
    const out = await this.run(["ip", "-4", "-j", "rule", "show"]);
    if (out === null) return null;
    const rules = parseJson<RuleJson>(out, "ip -j rule show", this.result.errors);
    return rules?.filter(isOwnedRule) ?? null;
  }

  async addRules(desired: DesiredRouting): Promise<void> {
    const owned = await this.ownedRules();
    if (owned === null) return;
    for (const d of desired.rules) {
      if (owned.some((r) => ruleMatches(r, d))) continue;
      await this.run(ruleAddArgs(d), true);
    }
  }

  async pruneRules(desired: DesiredRouting): Promise<void> {
    const owned = await this.ownedRules();
    if (owned === null) return;
    for (const r of owned) {
      if (desired.rules.some((d) => ruleMatches(r, d))) continue;
      await this.run(["ip", "-4", "rule", "del", ...ruleSelector(r)], true);
    }
  }

  /** Every IPv4 address of the host; owned: /32 with the agent's metric. */
  async addresses(): Promise<ListedAddress[] | null> {
    const out = await this.run(["ip", "-4", "-j", "addr", "show"]);
    if (out === null) return null;
    const links = parseJson<AddrJson>(out, "ip -j addr show", this.result.errors);
    if (links === null) return null;
    return links.flatMap((l) =>
      (l.addr_info ?? [])
        .filter((a) => a.family === "inet" && a.local !== undefined && l.ifname !== undefined)
        .map((a) => ({
          address: a.local as string,
          prefix: a.prefixlen ?? 32,
          dev: l.ifname as string,
          owned: a.prefixlen === OWNED_ADDRESSES.prefix && a.metric === OWNED_ADDRESSES.metric,
        })),
    );
  }

  async addAddresses(desired: DesiredRouting): Promise<void> {
    if (desired.addresses.length === 0) return;
    const present = await this.addresses();
    if (present === null) return;
    // an address the operator already has on the interface answers ARP as it is: leave it be
    const has = (d: DesiredAddress) => present.some((p) => p.address === d.address && p.dev === d.dev);
    for (const d of desired.addresses) {
      if (has(d)) continue;
      await this.run(
        [
          "ip",
          "-4",
          "addr",
          "add",
          `${d.address}/${OWNED_ADDRESSES.prefix}`,
          "dev",
          d.dev,
          "noprefixroute",
          "metric",
          String(OWNED_ADDRESSES.metric),
        ],
        true,
      );
    }
  }

  async pruneAddresses(desired: DesiredRouting): Promise<void> {
    const present = await this.addresses();
    if (present === null) return;
    for (const p of present) {
      if (!p.owned || desired.addresses.some((d) => d.address === p.address && d.dev === p.dev)) continue;
      await this.run(["ip", "-4", "addr", "del", `${p.address}/${p.prefix}`, "dev", p.dev], true);
    }
  }

  async tableRoutes(table: number): Promise<RouteJson[] | null> {
    const r = await this.runner.run(["ip", "-4", "-j", "route", "show", "table", String(table)]);
    // a table without routes does not exist for the kernel: ip exits 2 and prints half a JSON array
    if (!ok(r) && /does not exist/.test(r.stderr)) return [];
    if (!ok(r)) {
      this.result.errors.push(describeFailure(r));
      return null;
    }
    return parseJson<RouteJson>(r.stdout, `ip -j route show table ${table}`, this.result.errors);
  }

  async addRoutes(desired: DesiredRouting): Promise<void> {
    for (const d of desired.routes) {
      const routes = await this.tableRoutes(d.table);
      if (routes === null || routes.some((r) => routeMatches(r, d))) continue;
      // replace swaps the default route in one step: the table is never without one
      const dev = d.dev === undefined ? [] : ["dev", d.dev];
      await this.run(["ip", "-4", "route", "replace", "default", "via", d.via, ...dev, "table", String(d.table)], true);
    }
  }

  async pruneRoutes(desired: DesiredRouting): Promise<void> {
    const out = await this.run(["ip", "-4", "-j", "route", "show", "table", "all"]);
    if (out === null) return;
    const all = parseJson<RouteJson>(out, "ip -j route show table all", this.result.errors);
    if (all === null) return;
    const owned = all.filter(
      (r) => inRange(Number(r.table), OWNED_TABLES) || inRange(Number(r.table), DR_OWNED_TABLES),
    );
    for (const r of owned) {
      const table = Number(r.table);
      const wanted = desired.routes.filter((d) => d.table === table);
      if (wanted.some((d) => routeMatches(r, d))) continue;
      const args = ["ip", "-4", "route", "del"];
      if (r.type !== undefined && r.type !== "unicast") args.push(r.type);
      args.push(r.dst ?? "default");
      if (r.gateway !== undefined) args.push("via", r.gateway);
      if (r.dev !== undefined) args.push("dev", r.dev);
      args.push("table", String(table));
      await this.run(args, true);
    }
  }
}

export async function reconcileRouting(
  runner: CommandRunner,
  desired: DesiredRouting,
  phase: RoutingPhase = "all",
): Promise<RoutingResult> {
  const rec = new Reconciler(runner);
  if (phase !== "prune") {
    await rec.sysctls(desired);
    // a rule must never point at an empty table: routes first
    await rec.addRoutes(desired);
    await rec.addRules(desired);
    await rec.addAddresses(desired);
  }
  if (phase !== "add") {
    await rec.pruneRules(desired);
    await rec.pruneRoutes(desired);
    await rec.pruneAddresses(desired);
  }
  return rec.result;
}

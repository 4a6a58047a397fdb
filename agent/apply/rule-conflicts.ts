import { type DesiredRouting, REROUTE_MASK } from "../../core/render/routes";
import { isOwnedRule, type RuleJson } from "./routes";
import { type CommandRunner, describeFailure, ok } from "./runner";

/**
 * Operator ip rules that would still override Gatehouse's own. The kernel walks ip rules by
 * priority and the first rule whose selector matches and whose table has a route decides; so a
 * rule before one of Gatehouse's reroute rules that may match the LAN's rerouted packets and looks
 * up another table wins over a redirect or a failover. Such a rule is usually one added without
 * `prio` after the agent started (it lands just before the lowest existing priority), or a cluster
 * whose priority base sits after the operator's rules.
 *
 * Conservative: a rule is reported unless it provably cannot match a rerouted LAN packet or cannot
 * decide its route (lookup local, nop, suppress_prefixlength, rules for sockets bound to an
 * interface, rules for traffic coming in from an ISP, mark selectors that disagree with the bits
 * Gatehouse sets).
 */

export interface IpRuleConflict {
  priority: number;
  /** the rule as `ip rule show` would print it */
  rule: string;
  /** the priority of the first Gatehouse reroute rule it comes before */
  before: number;
}

export interface RuleConflictCheck {
  conflicts: IpRuleConflict[];
  /** why the rules could not be read, else null */
  error: string | null;
}

/** The selector of a rule as ip prints it. */
export function describeRule(r: RuleJson & Record<string, unknown>): string {
  const parts: string[] = [];
  if ("not" in r) parts.push("not");
  parts.push(
    "from",
    r.src === undefined || r.src === "all" ? "all" : r.srclen === undefined ? r.src : `${r.src}/${r.srclen}`,
  );
  if (typeof r.dst === "string") parts.push("to", r.dstlen === undefined ? r.dst : `${r.dst}/${String(r.dstlen)}`);
  if (r.iif !== undefined) parts.push("iif", r.iif);
  if (r.oif !== undefined) parts.push("oif", r.oif);
  if (r.fwmark !== undefined) parts.push("fwmark", r.fwmask === undefined ? r.fwmark : `${r.fwmark}/${r.fwmask}`);
  if (typeof r.action === "string") parts.push(r.action);
  else if (typeof r.goto === "number") parts.push("goto", String(r.goto));
  else if (r.table !== undefined) parts.push("lookup", r.table);
  return parts.join(" ");
}

/** Whether a rule could decide the route of a LAN packet carrying one of these Gatehouse marks. */
function mayOverride(
  r: RuleJson & Record<string, unknown>,
  marks: number[],
  mask: number,
  ispIfaces: Set<string>,
): boolean {
  if (r.table === "local" || r.table === "255" || "nop" in r) return false;
  // routes more specific than the prefix length only: not the default routes a reroute replaces
  if ("suppress_prefixlen" in r || "suppress_ifgroup" in r || "l3mdev" in r) return false;
  // only sockets bound to an interface (the gateway's own traffic)
  if (r.oif !== undefined) return false;
  // traffic coming in from an ISP is never rerouted
  if (r.iif !== undefined && !("not" in r) && ispIfaces.has(r.iif)) return false;
  if (r.fwmark !== undefined && !("not" in r)) {
    const value = Number(r.fwmark);
    const m = r.fwmask === undefined ? 0xffffffff : Number(r.fwmask);
    // bits Gatehouse sets decide; other bits are the operator's and may be anything
    const known = (m & mask) >>> 0;
    if (!marks.some((mark) => ((mark ^ value) & known) >>> 0 === 0)) return false;
  }
  return true;
}

/**
 * The operator rules listed before Gatehouse's reroute rules that may override them. `rules` is
 * `ip -j rule show`; `desired` tells which rules are Gatehouse's.
 */
export function findRuleConflicts(
  rules: ReadonlyArray<RuleJson & Record<string, unknown>>,
  desired: DesiredRouting,
  ispInterfaces: readonly string[],
): IpRuleConflict[] {
  // the reroute rules (DR rules match only the DR virtual services' own marks)
  const reroute = desired.rules.filter((d) => d.fwmark !== undefined && d.mask === REROUTE_MASK);
  if (reroute.length === 0) return [];
  const marks = reroute.map((d) => d.fwmark as number);
  const mask = reroute[0]?.mask ?? 0xffffffff;
  const first = Math.min(...reroute.map((d) => d.priority));
  const last = Math.max(...reroute.map((d) => d.priority));
  const ifaces = new Set(ispInterfaces);
  const out: IpRuleConflict[] = [];
  for (const r of rules) {
    if (r.priority === undefined || r.priority >= last || isOwnedRule(r)) continue;
    if (!mayOverride(r, marks, mask, ifaces)) continue;
    const before =
      r.priority < first
        ? first
        : Math.min(...reroute.map((d) => d.priority).filter((p) => p > (r.priority as number)));
    out.push({ priority: r.priority, rule: describeRule(r), before });
  }
  return out;
}

/** Reads the ip rules and finds the conflicts (one cheap `ip -j rule show`). */
export async function checkRuleConflicts(
  runner: CommandRunner,
  desired: DesiredRouting,
  ispInterfaces: readonly string[],
): Promise<RuleConflictCheck> {
  const r = await runner.run(["ip", "-4", "-j", "rule", "show"], { timeoutMs: 5000 });
  if (!ok(r)) return { conflicts: [], error: describeFailure(r) };
  try {
    const rules: unknown = JSON.parse(r.stdout.trim() || "[]");
    if (!Array.isArray(rules)) return { conflicts: [], error: "ip -j rule show: output is not a JSON array" };
    return {
      conflicts: findRuleConflicts(rules as Array<RuleJson & Record<string, unknown>>, desired, ispInterfaces),
      error: null,
    };
  } catch {
    return { conflicts: [], error: "ip -j rule show: output is not JSON" };
  }
}

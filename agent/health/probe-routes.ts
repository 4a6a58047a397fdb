import { type CommandRunner, describeFailure, ok } from "../apply/runner";
import { routeTableOf } from "../../core/spec/marks";
import type { GatewaySpec } from "../../core/spec/schema";

/**
 * A probe bound to an ISP's interface (fping -I) still needs a route through that interface:
 * the kernel looks the target up with the interface as the only allowed way out, and when the
 * main table's default route goes through another ISP it finds none and asks for the target
 * itself on the link. For targets beyond the next hop, one ip rule per ISP sends traffic of
 * sockets bound to its interface to the ISP's own routing table (default via its next hop, kept
 * by the datapath for redirects and failover), so the probe really crosses that uplink. Probing
 * the next hop alone needs no rule, and none is added then.
 *
 * The rules use priorities of their own, next to the datapath's: only those are ever changed.
 */

export const PROBE_RULE_PRIORITY_BASE = 7350;
export const PROBE_RULE_PRIORITIES = { from: PROBE_RULE_PRIORITY_BASE + 1, to: PROBE_RULE_PRIORITY_BASE + 250 };

export interface ProbeRule {
  priority: number;
  oif: string;
  table: number;
}

export function probeRules(spec: GatewaySpec): ProbeRule[] {
  return [...spec.isps]
    .sort((a, b) => a.index - b.index)
    .filter((isp) => isp.probeTargets.some((t) => t !== isp.nextHop))
    .map((isp) => ({
      priority: PROBE_RULE_PRIORITY_BASE + isp.index,
      oif: isp.interface,
      table: routeTableOf(isp.index),
    }));
}

interface RuleJson {
  priority?: number;
  oif?: string;
  table?: string;
  src?: string;
  fwmark?: string;
  iif?: string;
}

const selector = (r: RuleJson) => {
  const args = ["priority", String(r.priority)];
  if (r.oif !== undefined) args.push("oif", r.oif);
  if (r.table !== undefined) args.push("lookup", r.table);
  return args;
};

/** Adds the missing probe rules and removes those of ISPs that no longer need one; answers the errors. */
export async function reconcileProbeRules(runner: CommandRunner, spec: GatewaySpec): Promise<string[]> {
  const errors: string[] = [];
  const listed = await runner.run(["ip", "-4", "-j", "rule", "show"], { timeoutMs: 5_000 });
  if (!ok(listed)) return [describeFailure(listed)];
  let rules: RuleJson[];
  try {
    const text = listed.stdout.trim();
    rules = text === "" ? [] : (JSON.parse(text) as RuleJson[]);
  } catch (e) {
    return [`cannot read ip rules: ${(e as Error).message}`];
  }
  const owned = rules.filter(
    (r) =>
      r.priority !== undefined && r.priority >= PROBE_RULE_PRIORITIES.from && r.priority <= PROBE_RULE_PRIORITIES.to,
  );
  const desired = probeRules(spec);
  const same = (r: RuleJson, d: ProbeRule) =>
    r.priority === d.priority &&
    r.oif === d.oif &&
    Number(r.table) === d.table &&
    r.fwmark === undefined &&
    r.iif === undefined &&
    (r.src === undefined || r.src === "all");
  for (const d of desired) {
    if (owned.some((r) => same(r, d))) continue;
    const r = await runner.run(
      ["ip", "-4", "rule", "add", "priority", String(d.priority), "oif", d.oif, "lookup", String(d.table)],
      { timeoutMs: 5_000 },
    );
    if (!ok(r)) errors.push(describeFailure(r));
  }
  for (const r of owned) {
    if (desired.some((d) => same(r, d))) continue;
    const del = await runner.run(["ip", "-4", "rule", "del", ...selector(r)], { timeoutMs: 5_000 });
    if (!ok(del)) errors.push(describeFailure(del));
  }
  return errors;
}

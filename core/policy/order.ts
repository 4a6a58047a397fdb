import type { Policy, Rule, RuleOrderMode } from "./model";
import { type Cidr, parseCidr } from "../address";
import { criteriaCount } from "./match-criteria";

/**
 * The effective rule order of docs/semantics.md. Every rule expands into one entry per
 * (source network, destination network). In the cluster's default mode, "most specific first",
 * entries sort by priority (unset last), longer source prefix, longer destination prefix, more of
 * the further criteria (input interface, destination ports, fwmark), then creation order. In "the order listed" they sort by the rule's place in the list: priority
 * (unset last), then creation order, so a new rule lands at the end; a rule's own entries stay
 * together. The remaining keys (rule id, then the networks' addresses) only make the order total,
 * so it never depends on how the policy's arrays happen to be ordered.
 */

export interface OrderedEntry {
  rule: Rule;
  source: Cidr;
  /** null: any destination */
  destination: Cidr | null;
}

export interface OrderedRule {
  rule: Rule;
  /** 1-based place in the rules table; disabled rules keep the place their entries would have */
  position: number;
  /** how many entries the rule produces (0 for a disabled rule, or one whose zone is missing) */
  entryCount: number;
}

const NO_PRIORITY = Number.POSITIVE_INFINITY;

function parsed(texts: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  for (const t of texts) {
    const r = parseCidr(t);
    if (r.ok) out.push(r.value);
  }
  return out;
}

/** The source networks of a rule: its zone's networks or its own CIDRs; unknown zones give none. */
export function ruleSources(rule: Rule, zoneNetworks: ReadonlyMap<string, readonly string[]>): Cidr[] {
  if (rule.source.kind === "cidrs") return parsed(rule.source.cidrs);
  return parsed(zoneNetworks.get(rule.source.zoneId) ?? []);
}

export function ruleDestinations(rule: Rule): Array<Cidr | null> {
  return rule.destinations.length === 0 ? [null] : parsed(rule.destinations);
}

/** The cluster's ordering mode (policies from before the setting existed: most specific first). */
export const orderModeOf = (policy: Pick<Policy, "settings">): RuleOrderMode =>
  policy.settings.ruleOrder ?? "specificity";

export function compareEntries(a: OrderedEntry, b: OrderedEntry, mode: RuleOrderMode = "specificity"): number {
  const pa = a.rule.priority ?? NO_PRIORITY;
  const pb = b.rule.priority ?? NO_PRIORITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (mode === "list" && a.rule !== b.rule) {
    if (a.rule.seq !== b.rule.seq) return a.rule.seq - b.rule.seq;
    if (a.rule.id !== b.rule.id) return a.rule.id < b.rule.id ? -1 : 1;
  }
  if (a.source.prefix !== b.source.prefix) return b.source.prefix - a.source.prefix;
  const da = a.destination?.prefix ?? 0;
  const db = b.destination?.prefix ?? 0;
  if (da !== db) return db - da;
  const ca = criteriaCount(a.rule);
  const cb = criteriaCount(b.rule);
  if (ca !== cb) return cb - ca;
  if (a.rule.seq !== b.rule.seq) return a.rule.seq - b.rule.seq;
  if (a.rule.id !== b.rule.id) return a.rule.id < b.rule.id ? -1 : 1;
  if (a.source.start !== b.source.start) return a.source.start < b.source.start ? -1 : 1;
  // an explicit 0.0.0.0/0 sorts before "any"; both match the same packets
  if (a.destination === null || b.destination === null) {
    return a.destination === b.destination ? 0 : a.destination === null ? 1 : -1;
  }
  if (a.destination.start !== b.destination.start) return a.destination.start < b.destination.start ? -1 : 1;
  return 0;
}

function expand(policy: Policy, includeDisabled: boolean): OrderedEntry[] {
  const zones = new Map(policy.zones.map((z) => [z.id, z.networks] as const));
  const entries: OrderedEntry[] = [];
  for (const rule of policy.rules) {
    if (!rule.enabled && !includeDisabled) continue;
    const destinations = ruleDestinations(rule);
    for (const source of ruleSources(rule, zones)) {
      for (const destination of destinations) entries.push({ rule, source, destination });
    }
  }
  const mode = orderModeOf(policy);
  return entries.sort((a, b) => compareEntries(a, b, mode));
}

/** The entries a gateway checks, first match wins; disabled rules produce none. */
export function orderEntries(policy: Policy): OrderedEntry[] {
  return expand(policy, false);
}

/** Rules in the order of their first entry, numbered from 1; rules without entries come last by creation order. */
export function orderRules(policy: Policy): OrderedRule[] {
  const counts = new Map<string, number>();
  const placed: Rule[] = [];
  for (const e of expand(policy, true)) {
    const n = counts.get(e.rule.id);
    if (n === undefined) placed.push(e.rule);
    counts.set(e.rule.id, (n ?? 0) + 1);
  }
  const rest = policy.rules
    .filter((r) => !counts.has(r.id))
    .sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return [...placed, ...rest].map((rule, i) => ({
    rule,
    position: i + 1,
    entryCount: rule.enabled ? (counts.get(rule.id) ?? 0) : 0,
  }));
}

const positionCache = new WeakMap<Policy, Map<string, number>>();

/** Rule id -> 1-based position, as orderRules numbers them (computed once per policy object). */
export function rulePositions(policy: Policy): Map<string, number> {
  let positions = positionCache.get(policy);
  if (positions === undefined) {
    positions = new Map(orderRules(policy).map((r) => [r.rule.id, r.position]));
    positionCache.set(policy, positions);
  }
  return positions;
}

/** Each rule's first entry in the order, disabled rules included (they keep their place). */
export function firstEntries(policy: Policy): Map<string, OrderedEntry> {
  const out = new Map<string, OrderedEntry>();
  for (const e of expand(policy, true)) if (!out.has(e.rule.id)) out.set(e.rule.id, e);
  return out;
}

export interface PositionChange {
  ruleId: string;
  rule: Rule;
  from: number;
  to: number;
}

/** The rules whose place changes when the cluster's ordering mode becomes `mode`, in their new order. */
export function orderModeChanges(policy: Policy, mode: RuleOrderMode): PositionChange[] {
  const before = rulePositions(policy);
  const after = orderRules({ ...policy, settings: { ...policy.settings, ruleOrder: mode } });
  return after
    .filter((r) => before.get(r.rule.id) !== r.position)
    .map((r) => ({ ruleId: r.rule.id, rule: r.rule, from: before.get(r.rule.id) ?? r.position, to: r.position }));
}

import { formatFwmark } from "./match-criteria";
import { ALGORITHM_LABELS, ON_FAILOVER_LABELS, type Policy, RULE_ORDER_LABELS } from "./model";
import type { EntityChange, FieldChange, PolicyDiff } from "./diff";
import type { EntityKind } from "./entities";

/**
 * Field values of policy entities in operator words, for the change list and bulk previews:
 * ids become names (from the draft or the published policy, whichever still has them), empty
 * lists and nulls say what they mean ("any", "none", "the next hop").
 */

export type NameLookup = ReadonlyMap<string, string>;

/** Names of every ISP, pool and zone of the given policies; later policies win. */
export function nameLookup(...policies: Policy[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const p of policies) for (const x of [...p.isps, ...p.pools, ...p.zones]) names.set(x.id, x.name);
  return names;
}

const quoted = (names: NameLookup, id: string) => `"${names.get(id) ?? id}"`;
const yesNo = (v: unknown) => (v === true ? "yes" : v === false ? "no" : String(v));

function list(v: unknown, empty: string, each: (x: unknown) => string = String): string {
  if (!Array.isArray(v)) return String(v);
  return v.length === 0 ? empty : v.map(each).join(", ");
}

function monitorText(m: Record<string, unknown>): string {
  return [
    `probe every ${m.intervalMs} ms`,
    `down after ${m.downAfter} lost`,
    `up after ${m.upAfter} good`,
    `hold-down ${m.holdDownMs} ms`,
    `loss threshold ${m.lossThresholdPct}%`,
    `latency threshold ${m.latencyThresholdMs} ms`,
  ].join(", ");
}

function actionText(a: Record<string, unknown>, names: NameLookup): string {
  if (a.type === "snat") {
    const alg = ALGORITHM_LABELS[a.algorithm as keyof typeof ALGORITHM_LABELS] ?? String(a.algorithm);
    return `SNAT to pool ${quoted(names, String(a.poolId))} (${alg})`;
  }
  if (a.type === "exclude") return "exclude from NAT";
  if (a.type === "drop") return "drop";
  return String(a.type);
}

const obj0 = (v: unknown) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {});

function sourceText(s: Record<string, unknown>, names: NameLookup): string {
  if (s.kind === "zone") return `zone ${quoted(names, String(s.zoneId))}`;
  return list(s.cidrs, "no networks");
}

/** One field's value as text; `undefined` (the field is absent on that side) is "—". */
export function valueText(kind: EntityKind | "settings", path: string, value: unknown, names: NameLookup): string {
  const key = `${kind}.${path}`;
  // absent means the default order
  if (key === "settings.ruleOrder") return RULE_ORDER_LABELS[value === "list" ? "list" : "specificity"];
  // a rule's further criteria are absent when unset: "any", not "—"
  if (key === "rule.dstPorts" || key === "rule.inInterfaces") return list(value ?? [], "any");
  if (key === "rule.fwmark") {
    const m = obj0(value);
    return typeof m.value === "number" && typeof m.mask === "number"
      ? `mark ${formatFwmark({ value: m.value, mask: m.mask })}`
      : "any";
  }
  if ((key === "rule.fwmark.value" || key === "rule.fwmark.mask") && typeof value === "number") {
    return `0x${(value >>> 0).toString(16)}`;
  }
  if (value === undefined) return "—";
  const obj = (v: unknown) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {});
  switch (key) {
    case "isp.backupIspIds":
      return list(value, "none", (id) => quoted(names, String(id)));
    case "isp.probeTargets":
      return list(value, "the next hop");
    case "isp.monitor":
      return monitorText(obj(value));
    case "isp.defaultPoolId":
    case "rule.fallbackPoolId":
      return value === null ? "none" : `pool ${quoted(names, String(value))}`;
    case "pool.ispId":
      return `ISP ${quoted(names, String(value))}`;
    case "pool.addresses":
    case "zone.networks":
    case "rule.source.cidrs":
      return list(value, "none");
    case "pool.portRange":
      return value === null ? "all ports" : `${obj(value).from}-${obj(value).to}`;
    case "rule.priority":
      return value === null ? "automatic (by specificity)" : String(value);
    case "rule.source":
      return sourceText(obj(value), names);
    case "rule.source.kind":
      return value === "zone" ? "a zone" : "networks";
    case "rule.source.zoneId":
      return `zone ${quoted(names, String(value))}`;
    case "rule.destinations":
      return list(value, "any");
    case "rule.egressIspId":
      return value === null ? "any ISP" : `ISP ${quoted(names, String(value))}`;
    case "rule.redirectIspId":
      return value === null ? "no redirect" : `via ISP ${quoted(names, String(value))}`;
    case "rule.failoverIspId":
      return value === null ? "none" : `ISP ${quoted(names, String(value))}`;
    case "rule.onFailover":
      return ON_FAILOVER_LABELS[value as keyof typeof ON_FAILOVER_LABELS] ?? String(value);
    case "rule.action":
      return actionText(obj(value), names);
    case "rule.action.type":
      return value === "snat" ? "SNAT" : value === "exclude" ? "exclude from NAT" : String(value);
    case "rule.action.poolId":
      return `pool ${quoted(names, String(value))}`;
    case "rule.action.algorithm":
      return ALGORITHM_LABELS[value as keyof typeof ALGORITHM_LABELS] ?? String(value);
    case "settings.unmatched":
      return value === "forward" ? "forward without NAT" : "drop";
  }
  if (typeof value === "boolean") return yesNo(value);
  if (typeof value === "string") return path.endsWith("comment") ? (value === "" ? "(none)" : `"${value}"`) : value;
  if (value === null) return "none";
  if (Array.isArray(value)) return list(value, "none");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export interface FieldText {
  path: string;
  label: string;
  before: string;
  after: string;
}

export interface ChangeText {
  kind: EntityKind;
  id: string;
  name: string;
  change: EntityChange["change"];
  fields: FieldText[];
}

// identity and bookkeeping fields say nothing to an operator reading a change
const HIDDEN = new Set(["id", "seq", "index"]);

export function fieldTexts(
  kind: EntityKind | "settings",
  fields: readonly FieldChange[],
  names: NameLookup,
): FieldText[] {
  return fields
    .filter((f) => !HIDDEN.has(f.path))
    .map((f) => ({
      path: f.path,
      label: f.label,
      before: valueText(kind, f.path, f.before, names),
      after: valueText(kind, f.path, f.after, names),
    }));
}

export function changeText(c: EntityChange, names: NameLookup): ChangeText {
  return { kind: c.kind, id: c.id, name: c.name, change: c.change, fields: fieldTexts(c.kind, c.fields, names) };
}

/** The whole diff in words, grouped as the change list shows it. */
export function diffText(diff: PolicyDiff, names: NameLookup) {
  return {
    settings: fieldTexts("settings", diff.settings, names),
    isps: diff.isps.map((c) => changeText(c, names)),
    pools: diff.pools.map((c) => changeText(c, names)),
    zones: diff.zones.map((c) => changeText(c, names)),
    rules: diff.rules.map((c) => changeText(c, names)),
  };
}

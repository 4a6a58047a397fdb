import microdiff from "microdiff";
import { type Policy, zClusterSettings, zIsp, zPool, zRule, zZone } from "./model";
import { describeEntity, type EntityKind, LIST_KEY, type PolicyEntity } from "./entities";
import { diffVirtualServices, type VirtualServiceChange } from "./virtual-service-diff";
import { fieldLabel } from "./wording";

/**
 * What changed between two policies (two revisions, or a revision and the draft), entity by
 * entity and field by field. Lists are compared as a whole: a changed address list shows the
 * list before and after, not a shifted index per address.
 */

export interface FieldChange {
  /** dotted field path, e.g. "monitor.intervalMs" or "source.cidrs" */
  path: string;
  /** the field in operator words, e.g. "probe interval (ms)" */
  label: string;
  /** undefined when the field did not exist on that side */
  before: unknown;
  after: unknown;
}

export interface EntityChange {
  kind: EntityKind;
  id: string;
  /** the entity's name after the change (before, for a removal) */
  name: string;
  change: "added" | "removed" | "changed";
  fields: FieldChange[];
}

export interface DiffSummary {
  added: number;
  removed: number;
  /** changed entities, plus one when the settings changed */
  changed: number;
  total: number;
}

export interface PolicyDiff {
  isps: EntityChange[];
  pools: EntityChange[];
  zones: EntityChange[];
  rules: EntityChange[];
  settings: FieldChange[];
  /** inbound virtual services (core/policy/virtual-service-diff.ts) */
  virtualServices?: VirtualServiceChange[];
  summary: DiffSummary;
}

const FIELD_ORDER: Record<EntityKind | "settings", string[]> = {
  isp: Object.keys(zIsp.shape),
  pool: Object.keys(zPool.shape),
  zone: Object.keys(zZone.shape),
  rule: Object.keys(zRule.shape),
  settings: Object.keys(zClusterSettings.shape),
};

function getAt(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function fieldChanges(kind: EntityKind | "settings", before: object, after: object): FieldChange[] {
  const byPath = new Map<string, FieldChange>();
  for (const d of microdiff(before as Record<string, unknown>, after as Record<string, unknown>)) {
    // cut the path at the first list so a list is reported once, as a whole
    const cut: (string | number)[] = [];
    for (const p of d.path) {
      if (typeof p === "number") break;
      cut.push(p);
    }
    const path = cut.join(".");
    if (byPath.has(path)) continue;
    byPath.set(path, {
      path,
      label: fieldLabel(kind, cut),
      before: getAt(before, cut),
      after: getAt(after, cut),
    });
  }
  return sortFields(kind, [...byPath.values()]);
}

function sortFields(kind: EntityKind | "settings", fields: FieldChange[]): FieldChange[] {
  const order = FIELD_ORDER[kind];
  const rank = (f: FieldChange) => {
    const i = order.indexOf(f.path.split(".")[0] ?? "");
    return i === -1 ? order.length : i;
  };
  // a union's tag ("source.kind", "action.type") says how to read its other fields, so it goes first
  const tag = (f: FieldChange) => (/\.(kind|type)$/.test(f.path) ? 0 : 1);
  return fields.sort(
    (a, b) => rank(a) - rank(b) || tag(a) - tag(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

function wholeEntity(kind: EntityKind, e: PolicyEntity, side: "before" | "after"): FieldChange[] {
  const fields = Object.entries(e)
    .filter(([k]) => k !== "id")
    .map(([k, v]) => ({
      path: k,
      label: fieldLabel(kind, [k]),
      before: side === "before" ? v : undefined,
      after: side === "after" ? v : undefined,
    }));
  return sortFields(kind, fields);
}

function sortKey(kind: EntityKind, e: PolicyEntity): [string | number, string] {
  if (kind === "rule") return [(e as { seq: number }).seq, e.id];
  return [(e as { name: string }).name.toLowerCase(), e.id];
}

function diffList(kind: EntityKind, beforePolicy: Policy, afterPolicy: Policy): EntityChange[] {
  const before = beforePolicy[LIST_KEY[kind]] as readonly PolicyEntity[];
  const after = afterPolicy[LIST_KEY[kind]] as readonly PolicyEntity[];
  const old = new Map(before.map((e) => [e.id, e]));
  const now = new Map(after.map((e) => [e.id, e]));
  const changes: Array<{ key: [string | number, string]; change: EntityChange }> = [];
  for (const [id, e] of now) {
    const prev = old.get(id);
    const name = describeEntity(kind, e, afterPolicy);
    if (prev === undefined) {
      changes.push({
        key: sortKey(kind, e),
        change: { kind, id, name, change: "added", fields: wholeEntity(kind, e, "after") },
      });
      continue;
    }
    const fields = fieldChanges(kind, prev, e);
    if (fields.length > 0)
      changes.push({ key: sortKey(kind, e), change: { kind, id, name, change: "changed", fields } });
  }
  for (const [id, e] of old) {
    if (now.has(id)) continue;
    changes.push({
      key: sortKey(kind, e),
      change: {
        kind,
        id,
        name: describeEntity(kind, e, beforePolicy),
        change: "removed",
        fields: wholeEntity(kind, e, "before"),
      },
    });
  }
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  return changes.sort((a, b) => cmp(a.key[0], b.key[0]) || cmp(a.key[1], b.key[1])).map((c) => c.change);
}

export function diffPolicies(before: Policy, after: Policy): PolicyDiff {
  const lists = {
    isps: diffList("isp", before, after),
    pools: diffList("pool", before, after),
    zones: diffList("zone", before, after),
    rules: diffList("rule", before, after),
  };
  const settings = fieldChanges("settings", before.settings, after.settings);
  const summary: DiffSummary = { added: 0, removed: 0, changed: settings.length > 0 ? 1 : 0, total: 0 };
  for (const key of Object.values(LIST_KEY)) for (const c of lists[key]) summary[c.change]++;
  const virtualServices = diffVirtualServices(before.virtualServices, after.virtualServices);
  for (const c of virtualServices) summary[c.change]++;
  summary.total = summary.added + summary.removed + summary.changed;
  return { ...lists, settings, ...(virtualServices.length > 0 ? { virtualServices } : {}), summary };
}

export function isEmptyDiff(d: PolicyDiff): boolean {
  return (
    d.isps.length === 0 &&
    d.pools.length === 0 &&
    d.zones.length === 0 &&
    d.rules.length === 0 &&
    d.settings.length === 0 &&
    (d.virtualServices?.length ?? 0) === 0
  );
}

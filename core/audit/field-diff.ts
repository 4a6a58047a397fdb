import type { PolicyPart } from "../policy/entities";
import { virtualServiceFieldLabel } from "../policy/virtual-service-validate";
import { fieldLabel } from "../policy/wording";

/**
 * A readable before/after of one audit event: the fields of the changed thing as dotted paths
 * ("monitor.intervalMs", "action.algorithm"), with operator labels for policy entities. Lists
 * are compared as a whole, as in the revision diff: a changed address list shows both lists.
 */

export interface EventFieldChange {
  path: string;
  label: string;
  change: "added" | "removed" | "changed" | "same";
  before: unknown;
  after: unknown;
}

const POLICY_KINDS: ReadonlySet<string> = new Set(["isp", "pool", "zone", "rule", "settings"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Leaves are scalars, lists and empty objects; nested objects become dotted paths. */
function flatten(value: unknown, prefix: string[], out: Map<string, { parts: string[]; value: unknown }>) {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, [...prefix, k], out);
    return;
  }
  out.set(prefix.join("."), { parts: prefix, value });
}

function leaves(value: unknown) {
  const out = new Map<string, { parts: string[]; value: unknown }>();
  if (value === null || value === undefined) return out;
  if (isPlainObject(value)) flatten(value, [], out);
  else out.set("", { parts: [], value });
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every field of either side, in the order the thing defines them. Unchanged fields are kept
 * (marked "same") so the detail view can show the whole entity with the changes highlighted.
 */
export function eventFieldDiff(targetType: string, before: unknown, after: unknown): EventFieldChange[] {
  const b = leaves(before);
  const a = leaves(after);
  const paths = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  return paths.map((path) => {
    const parts = (b.get(path) ?? a.get(path))?.parts ?? [];
    const label =
      path === ""
        ? "value"
        : POLICY_KINDS.has(targetType)
          ? fieldLabel(targetType as PolicyPart, parts)
          : targetType === "virtual_service"
            ? virtualServiceFieldLabel(parts)
            : parts.join(" › ");
    const inBefore = b.has(path);
    const inAfter = a.has(path);
    const bv = b.get(path)?.value;
    const av = a.get(path)?.value;
    const change = !inBefore ? "added" : !inAfter ? "removed" : same(bv, av) ? "same" : "changed";
    return { path, label, change, before: bv, after: av };
  });
}

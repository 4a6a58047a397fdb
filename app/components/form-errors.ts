import { isTRPCClientError } from "@trpc/client";
import type { PolicyPart } from "@/core/policy/entities";
import { CONTINUES_LABEL, capitalize, fieldLabel, issueWords, joinLabel } from "@/core/policy/wording";

/**
 * Field messages for the editing forms. The forms check their values with the same zod schemas
 * as the API (core/policy/model.ts) before sending, and show the server's `data.issues` for
 * what only the whole policy can tell (overlaps, names in use). Both end up here, in words, under
 * the field they are about.
 */

export interface Issue {
  path: readonly PropertyKey[];
  message: string;
  /** set on zod's own issues (checked in the browser), absent on the server's, which are worded already */
  code?: unknown;
}

/**
 * "Name is required", "Network 2: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?".
 * Messages from the whole-policy check already name their field ("next hop 127.0.0.1 is a
 * loopback address") and are shown as they are.
 */
export function issueText(kind: PolicyPart, issue: Issue, fromServer = false): string {
  const message = issueWords(issue);
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const label = fieldLabel(kind, path);
  if (fromServer && !CONTINUES_LABEL.test(message)) return capitalize(message);
  return capitalize(joinLabel(label, message));
}

export interface GroupedErrors {
  /** messages by form field key ("name", "monitor.intervalMs", "source.cidrs") */
  byField: Record<string, string[]>;
  /** messages that belong to no field of the form */
  other: string[];
}

/** Puts each issue under the longest form field key its path starts with; the first issue per value only. */
export function groupIssues(
  kind: PolicyPart,
  issues: readonly Issue[],
  fieldKeys: readonly string[],
  fromServer = false,
): GroupedErrors {
  const out: GroupedErrors = { byField: {}, other: [] };
  const keys = [...fieldKeys].sort((a, b) => b.length - a.length);
  // one message per value: an empty name is "required", not also "may contain only letters"
  const seen = new Set<string>();
  for (const issue of issues) {
    const dotted = issue.path.map(String).join(".");
    if (seen.has(dotted)) continue;
    seen.add(dotted);
    const key = keys.find((k) => dotted === k || dotted.startsWith(`${k}.`));
    const text = issueText(kind, issue, fromServer);
    if (key === undefined) {
      if (!out.other.includes(text)) out.other.push(text);
    } else {
      const list = out.byField[key] ?? [];
      if (!list.includes(text)) list.push(text);
      out.byField[key] = list;
    }
  }
  return out;
}

/** The field issues a failed API call carries, without the "fields" wrapper of entity inputs. */
export function serverIssues(err: unknown): Issue[] {
  if (!isTRPCClientError(err)) return [];
  const issues = (err.data as { issues?: Issue[] } | undefined)?.issues ?? [];
  return issues.map((i) => ({ ...i, path: i.path[0] === "fields" ? i.path.slice(1) : i.path }));
}

export function mergeErrors(a: GroupedErrors, b: GroupedErrors): GroupedErrors {
  const byField: Record<string, string[]> = { ...a.byField };
  for (const [k, v] of Object.entries(b.byField))
    byField[k] = [...(byField[k] ?? []), ...v.filter((m) => !byField[k]?.includes(m))];
  return { byField, other: [...a.other, ...b.other.filter((m) => !a.other.includes(m))] };
}

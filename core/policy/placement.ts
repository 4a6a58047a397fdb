import type { Policy } from "./model";
import { firstEntries, orderModeOf, orderRules, type OrderedEntry } from "./order";
import { rulePlace } from "./rule-name";

/**
 * Why a rule sits where it does in the effective order, in words, for the note shown when a rule is
 * added or edited: "Placed at #3: its source /24 is more specific than #4's /16." The comparison is
 * the one order.ts sorts by, read off each rule's first entry.
 */

export interface Placement {
  ruleId: string;
  position: number;
  count: number;
  text: string;
}

const dst = (e: OrderedEntry) => (e.destination ? `/${e.destination.prefix}` : "any destination");

/** Why entry a comes before entry b, as a clause about a ("its source /24 is more specific than #4's /16"). */
function whyBefore(a: OrderedEntry, b: OrderedEntry, bPlace: string, subject: string, possessive: string): string {
  const pa = a.rule.priority;
  const pb = b.rule.priority;
  if (pa !== pb) {
    if (pb === null) return `${subject} has priority ${pa} and ${bPlace} has none`;
    return `${possessive} priority ${pa} is lower than ${bPlace}'s ${pb}`;
  }
  if (a.source.prefix !== b.source.prefix) {
    return `${possessive} source /${a.source.prefix} is more specific than ${bPlace}'s /${b.source.prefix}`;
  }
  const da = a.destination?.prefix ?? 0;
  const db = b.destination?.prefix ?? 0;
  if (da !== db) {
    return `${possessive} destination ${dst(a)} is more specific than ${bPlace}'s ${dst(b)} (the sources tie at /${a.source.prefix})`;
  }
  return `${subject} was created before ${bPlace} and they are equally specific`;
}

export function explainPlacement(policy: Policy, ruleId: string): Placement | null {
  const order = orderRules(policy);
  const at = order.findIndex((r) => r.rule.id === ruleId);
  if (at === -1) return null;
  const position = at + 1;
  const count = order.length;
  const head = `Placed at ${rulePlace(position)} of ${count}`;
  const done = (text: string): Placement => ({ ruleId, position, count, text });
  if (orderModeOf(policy) === "list") {
    const rule = order[at]?.rule;
    if (rule?.priority !== null && rule?.priority !== undefined) {
      return done(`${head}: rules apply in the order listed, and its priority ${rule.priority} puts it there.`);
    }
    return done(
      `${head}: rules apply in the order listed${position === count ? ", so a new rule goes to the end" : ""}.`,
    );
  }
  const firsts = firstEntries(policy);
  const own = firsts.get(ruleId);
  if (!own) {
    return done(`${head}: it matches no network (its zone is missing or empty), so it comes after the rules that do.`);
  }
  const reasons: string[] = [];
  const next = order[at + 1] && firsts.get(order[at + 1]?.rule.id as string);
  if (next) reasons.push(whyBefore(own, next, rulePlace(position + 1), "it", "its"));
  const prev = order[at - 1] && firsts.get(order[at - 1]?.rule.id as string);
  if (prev) {
    const place = rulePlace(position - 1);
    reasons.push(whyBefore(prev, own, "this rule", place, `${place}'s`));
  }
  if (reasons.length === 0) return done(`${head}: it is the only rule.`);
  return done(`${head}, most specific first: ${reasons.join("; ")}.`);
}

/**
 * The one way a rule is named to people, on every page, message and audit line: "#3", its place
 * in the effective order (the number the rules table shows and the gateway evaluates), followed by
 * its comment when it has one: `#3 "guest wifi"`. Anything that names a rule to a person goes
 * through here (rule-name.test.ts checks that nothing else spells it).
 */

const MAX_LABEL = 40;

export interface NamedRule {
  comment?: string | null;
}

/** "#3" */
export const rulePlace = (position: number): string => `#${position}`;

/** The rule's label: its comment, shortened to one line of at most 40 characters ("" when none). */
export function ruleLabel(rule: NamedRule | null | undefined): string {
  const text = (rule?.comment ?? "").replace(/\s+/g, " ").trim();
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** `#3 "guest wifi"`, or `#3`; a rule whose place is not known (gone, or from an old event) by its label alone. */
export function ruleName(position: number | null | undefined, rule?: NamedRule | null): string {
  const label = ruleLabel(rule);
  if (position === null || position === undefined) return label ? `"${label}"` : "(a rule no longer in the list)";
  return label ? `${rulePlace(position)} "${label}"` : rulePlace(position);
}

/** "rule #3", "rules #2 and #5": several rules in running text. */
export function rulesNamed(positions: readonly number[]): string {
  const places = positions.map(rulePlace);
  if (places.length === 1) return `rule ${places[0]}`;
  const last = places[places.length - 1];
  return `rules ${places.slice(0, -1).join(", ")} and ${last}`;
}

import { OPERATOR_MARK_BITS } from "@/core/policy/match-criteria";

/**
 * Lists typed into one input: networks, addresses, probe targets. Commas, spaces and new lines
 * all separate items, so text pasted from a config file or a spreadsheet column works as it is.
 */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function joinList(items: readonly string[]): string {
  return items.join(", ");
}

/**
 * A number field's text as the schema should see it: empty is `empty` (null or undefined, as the
 * field means), digits are a number, anything else stays text so the schema reports "must be a
 * number" instead of guessing.
 */
export function numberField<E extends null | undefined>(text: string, empty: E): number | string | E {
  const t = text.trim();
  if (t === "") return empty;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** A mark as forms show it: 0x10000000. */
export const hexMark = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** "0x10000000" or decimal; text that is no number stays NaN so the schema names the field. */
const markNumber = (s: string) => (/^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(s) ? Number(s) : Number.NaN);

/**
 * An fwmark typed as value and mask: no value and no mask is no mark (null); a value alone is read
 * under all the operator's bits, as rules and services read it.
 */
export function fwmarkField(value: string, mask: string) {
  if (value.trim() === "" && mask.trim() === "") return null;
  return { value: markNumber(value), mask: mask.trim() === "" ? OPERATOR_MARK_BITS : markNumber(mask) };
}

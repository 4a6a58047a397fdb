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

/**
 * Checks every boundary applies to untrusted input before anything else looks at it.
 *
 * PostgreSQL cannot store NUL in text and no operator or agent ever means one, so a NUL anywhere
 * in a request is refused up front instead of failing half-way through a change on one store only.
 *
 * A lone UTF-16 surrogate ("\ud800" in JSON) is not a character at all: it cannot be written as
 * UTF-8, so SQLite keeps bytes it reads back as U+FFFD and PostgreSQL gets U+FFFD from its driver.
 * Whatever was checked, hashed (the audit chain) or compared before storing would then differ
 * from what is stored, so such text is refused up front too.
 */

export type BadTextKind = "nul" | "surrogate";

export interface BadText {
  /** where in the input, e.g. ["rules", 2, "comment"]; a bad field name ends with "(field name)" */
  path: (string | number)[];
  kind: BadTextKind;
}

const LONE_SURROGATE = /\p{Cs}/u;

function textProblem(s: string): BadTextKind | null {
  if (s.includes("\u0000")) return "nul";
  // with the u flag a well-formed pair is one code point, so only a lone half matches
  if (LONE_SURROGATE.test(s)) return "surrogate";
  return null;
}

/** The first string (or field name) in `value` that no store can keep as it is, or null. */
export function findBadText(value: unknown, path: (string | number)[] = [], depth = 0): BadText | null {
  if (depth > 32) return null;
  if (typeof value === "string") {
    const kind = textProblem(value);
    return kind === null ? null : { path, kind };
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = findBadText(v, [...path, i], depth + 1);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const keyKind = textProblem(k);
      if (keyKind !== null) return { path: [...path, "(field name)"], kind: keyKind };
      const bad = findBadText(v, [...path, k], depth + 1);
      if (bad !== null) return bad;
    }
  }
  return null;
}

export function containsNul(value: unknown): boolean {
  return findBadText(value)?.kind === "nul";
}

export const NUL_MESSAGE = "Text must not contain NUL characters.";
export const SURROGATE_MESSAGE =
  "Text must be well-formed Unicode: it contains half of a UTF-16 surrogate pair, which no store can keep.";

/** `where` names the input as a whole when the path is empty (e.g. "input", "body"). */
export function badTextMessage(bad: BadText, where: string): string {
  const field = bad.path.length === 0 ? where : bad.path.join(".");
  return `${field}: ${bad.kind === "nul" ? NUL_MESSAGE : SURROGATE_MESSAGE}`;
}

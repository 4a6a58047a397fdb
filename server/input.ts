/**
 * Checks every boundary applies to untrusted input before anything else looks at it.
 * PostgreSQL cannot store NUL in text and no operator or agent ever means one, so a NUL anywhere
 * in a request is refused up front instead of failing half-way through a change on one store only.
 */
export function containsNul(value: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([k, v]) => k.includes("\u0000") || containsNul(v, depth + 1));
  }
  return false;
}

export const NUL_MESSAGE = "Text must not contain NUL characters.";

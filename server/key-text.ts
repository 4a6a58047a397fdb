/**
 * A 32-byte key as people write one: 64 hex digits, or base64 / base64url (`openssl rand -hex 32`
 * or `-base64 32`). Used for every key the console reads from a file or the environment.
 */
export const KEY_BYTES = 32;

/** The key's bytes, or null when the text is neither form or not 32 bytes long. */
export function decodeKey(text: string): Buffer | null {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t)
    ? Buffer.from(t, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(t)
      ? Buffer.from(t.replaceAll("-", "+").replaceAll("_", "/"), "base64")
      : null;
  return key !== null && key.length === KEY_BYTES ? key : null;
}

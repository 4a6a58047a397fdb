import { createHash, randomBytes } from "node:crypto";
import { AGENT_TOKEN_PREFIX, ENROLL_TOKEN_PREFIX, TOKEN_RE } from "../../../core/protocol/agent-api";

/**
 * Gateway credentials. Tokens are 32 random bytes; the database keeps only their sha256, so a
 * leaked database does not let anyone act as a gateway. A plain hash (no salt, no slow KDF) is
 * enough because the tokens carry 256 bits of entropy, and it keeps lookup a unique-index hit.
 */
export const ENROLL_TOKEN_HOURS = 24;

export type TokenKind = "enroll" | "agent";

export function newToken(kind: TokenKind): string {
  const prefix = kind === "enroll" ? ENROLL_TOKEN_PREFIX : AGENT_TOKEN_PREFIX;
  return prefix + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The token of an `Authorization: Bearer <token>` header, if it has the shape of one of ours. */
export function bearerToken(header: string | null, kind: TokenKind): string | null {
  if (header === null || header.length > 200) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const token = m?.[1];
  if (token === undefined || !TOKEN_RE.test(token)) return null;
  const prefix = kind === "enroll" ? ENROLL_TOKEN_PREFIX : AGENT_TOKEN_PREFIX;
  return token.startsWith(prefix) ? token : null;
}

import { randomUUID } from "node:crypto";
import { type Db, getDb } from "../db";
import { env } from "../env";
import { type RequestOrigin, resolveOrigin, type TrustedProxies } from "../http/forwarded";
import { peerOf } from "../http/peer-header";
import type { RequestMeta } from "../services/audit/record";
import { readSession, SESSION_COOKIE, type SessionUser } from "../services/auth/sessions";
import { readBearer, type TokenUser } from "../services/auth/tokens";

export interface Context {
  db: Db;
  session: SessionUser | null;
  meta: RequestMeta;
  /** the x-csrf-token header sent with the request */
  csrfHeader: string | null;
  /** false when a browser sent the request from another origin */
  sameOrigin: boolean;
  /** headers of the response, for Set-Cookie */
  resHeaders: Headers;
  /**
   * A request with `Authorization: Bearer ...`: the token's identity, or "invalid" for an unknown,
   * revoked or expired token. Absent (undefined) when the request carries no bearer token.
   */
  apiToken?: TokenUser | "invalid";
}

function bearerOf(headers: Headers): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
  return m ? (m[1] as string) : null;
}

export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // a malformed cookie value is ignored, like a missing one
    }
  }
  return out;
}

/** Who sent the request and to which host, believing forwarded headers only from GATEHOUSE_TRUSTED_PROXIES. */
export function requestOrigin(
  headers: Headers,
  trusted: TrustedProxies = env.GATEHOUSE_TRUSTED_PROXIES,
): RequestOrigin {
  return resolveOrigin({ ...peerOf(headers), headers }, trusted);
}

export function clientAddress(headers: Headers, trusted?: TrustedProxies): string {
  return requestOrigin(headers, trusted).ip.slice(0, 64);
}

export function isSameOrigin(headers: Headers, trusted?: TrustedProxies): boolean {
  const origin = headers.get("origin");
  if (origin === null) return true; // not a browser cross-site request: browsers always send Origin on POST
  try {
    return new URL(origin).host === requestOrigin(headers, trusted).host;
  } catch {
    return false;
  }
}

export async function createContext(opts: { req: Request; resHeaders: Headers }, db: Db = getDb()): Promise<Context> {
  const headers = opts.req.headers;
  const cookies = parseCookies(headers.get("cookie"));
  const bearer = bearerOf(headers);
  // a bearer request is the token's alone: a cookie sent with it is not looked at
  const session = bearer === null ? await readSession(db, cookies.get(SESSION_COOKIE)) : null;
  const apiToken = bearer === null ? undefined : ((await readBearer(db, bearer)) ?? "invalid");
  return {
    ...(apiToken === undefined ? {} : { apiToken }),
    db,
    session,
    meta: {
      ip: clientAddress(headers),
      userAgent: (headers.get("user-agent") ?? "").slice(0, 400),
      requestId: headers.get("x-request-id")?.slice(0, 64) ?? randomUUID(),
    },
    csrfHeader: headers.get("x-csrf-token"),
    sameOrigin: isSameOrigin(headers),
    resHeaders: opts.resHeaders,
  };
}

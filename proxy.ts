import { randomBytes } from "node:crypto";
import { type NextRequest, NextResponse } from "next/server";
import { env } from "./server/env";
import { resolveOrigin } from "./server/http/forwarded";
import { peerOf } from "./server/http/peer-header";
import { API_CSP, HSTS, pageCsp } from "./server/http/security-headers";

/**
 * Per-request security headers (the fixed ones are in next.config.ts): a page's CSP with a fresh script nonce,
 * no caching and no framing for API answers, and HSTS when the browser reached the console over https (directly,
 * or through a trusted proxy that says so).
 */
export function proxy(request: NextRequest) {
  const https =
    resolveOrigin({ ...peerOf(request.headers), headers: request.headers }, env.GATEHOUSE_TRUSTED_PROXIES).proto ===
    "https";
  let res: NextResponse;
  if (request.nextUrl.pathname.startsWith("/api/")) {
    res = NextResponse.next();
    res.headers.set("Content-Security-Policy", API_CSP);
    res.headers.set("Cache-Control", "no-store");
  } else {
    const csp = pageCsp(randomBytes(16).toString("base64"), { dev: env.NODE_ENV === "development" });
    const headers = new Headers(request.headers);
    // Next.js reads the nonce from here and sets it on the scripts it renders
    headers.set("Content-Security-Policy", csp);
    res = NextResponse.next({ request: { headers } });
    res.headers.set("Content-Security-Policy", csp);
  }
  if (https) res.headers.set("Strict-Transport-Security", HSTS);
  return res;
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};

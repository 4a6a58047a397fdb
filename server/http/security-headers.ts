/**
 * Response headers against framing, sniffing and script injection. The page CSP allows scripts only with the
 * request's nonce (Next.js puts it on its own inline scripts when it finds it in the request's CSP header) and
 * whatever those scripts load ('strict-dynamic'). Styles may be inline: React renders `style` attributes and the
 * charts set styles inline; a style cannot run code, so this is the usual trade-off.
 */

/** Sent with every answer, pages, files and API alike (next.config.ts). */
export const STATIC_SECURITY_HEADERS = {
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

export function pageCsp(nonce: string, opts: { dev?: boolean } = {}): string {
  return [
    "default-src 'self'",
    // the development server evaluates modules with eval(); the production build never does
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${opts.dev ? " ws:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** API answers are data, never documents: nothing may load from them or frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** One year, only over https: a browser that saw it refuses plain http to this host afterwards. */
export const HSTS = "max-age=31536000";

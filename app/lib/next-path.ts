/**
 * Where to go after signing in: the `next` parameter when it resolves, as a browser resolves a link on this
 * page, to the console's own origin; the console's home otherwise. Backslashes, tabs and newlines
 * (`/\evil.example`, `/%09/evil.example`) and protocol-relative or absolute URLs to other hosts all resolve
 * elsewhere and are refused.
 */
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (!next) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(origin).origin) return "/";
  // "/.//evil.example" resolves to the path "//evil.example", which would leave the origin once used as a link
  return `${url.pathname.replace(/^\/+/, "/")}${url.search}${url.hash}`;
}

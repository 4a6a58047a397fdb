import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../../server/trpc/root";

/**
 * The console's tRPC API over HTTP, signed in like a browser (session cookie and CSRF token):
 * what tests, the benchmark and the lab script use to drive a console.
 */

export type ConsoleApi = TRPCClient<AppRouter>;

/** Signs in to a console over HTTP and returns a tRPC client carrying the session and CSRF token. */
export async function signIn(url: string, username: string, password: string): Promise<ConsoleApi> {
  const cookies = new Map<string, string>();
  let csrf: string | null = null;
  const jarFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (cookies.size > 0) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    if (csrf !== null) headers.set("x-csrf-token", csrf);
    const res = await fetch(input, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair !== undefined && eq > 0) cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url.replace(/\/+$/, "")}/api/trpc`, transformer: superjson, fetch: jarFetch })],
  });
  const session = await client.auth.login.mutate({ username, password });
  csrf = session.csrfToken;
  return client;
}

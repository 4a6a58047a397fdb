/**
 * The console's tRPC API over plain HTTP with an API token, as documented at /api/openapi.json:
 * inputs and results travel wrapped in {"json": ...}.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Client {
  query<T>(path: string, input?: unknown): Promise<T>;
  mutate<T>(path: string, input: unknown): Promise<T>;
}

export function makeClient(url: string, token: string): Client {
  const base = url.replace(/\/+$/, "");
  async function send<T>(path: string, input: unknown, kind: "query" | "mutation"): Promise<T> {
    const body = JSON.stringify({ json: input ?? null });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let res: Response;
    try {
      res =
        kind === "query"
          ? await fetch(`${base}/api/trpc/${path}?input=${encodeURIComponent(body)}`, { headers })
          : await fetch(`${base}/api/trpc/${path}`, {
              method: "POST",
              headers: { ...headers, "content-type": "application/json" },
              body,
            });
    } catch (e) {
      throw new ApiError(`cannot reach the console at ${base}: ${(e as Error).message}`, 0);
    }
    const parsed = (await res.json().catch(() => null)) as {
      result?: { data?: { json?: T } };
      error?: { json?: { message?: string } };
    } | null;
    if (!res.ok || !parsed?.result) {
      throw new ApiError(parsed?.error?.json?.message ?? `the console answered HTTP ${res.status}`, res.status);
    }
    return parsed.result.data?.json as T;
  }
  return {
    query: (path, input) => send(path, input, "query"),
    mutate: (path, input) => send(path, input, "mutation"),
  };
}

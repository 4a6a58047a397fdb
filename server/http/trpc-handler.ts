import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { Db } from "../db";
import { createContext } from "../trpc/context";
import { appRouter } from "../trpc/root";
import { BodyTooLarge, withLimitedBody } from "./body-limit";
import { checkTrpcUrl, MAX_BATCH_CALLS } from "./trpc-guard";

export const TRPC_ENDPOINT = "/api/trpc";

/** An error in tRPC's own response shape (superjson-wrapped), so tRPC clients show its message. */
function trpcError(status: 400 | 413, message: string): Response {
  const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
  const body = {
    error: { json: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status } } },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/**
 * /api/trpc: refuses oversized batches, batched sign-ins and bodies over 1 MiB before tRPC parses anything;
 * answers are never cached.
 */
export async function handleTrpc(req: Request, db?: Db): Promise<Response> {
  const refusal = checkTrpcUrl(new URL(req.url), TRPC_ENDPOINT);
  if (refusal) return trpcError(refusal.status, refusal.message);
  let limited: Request;
  try {
    limited = await withLimitedBody(req);
  } catch (e) {
    if (e instanceof BodyTooLarge) return trpcError(413, e.message);
    throw e;
  }
  const res = await fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req: limited,
    router: appRouter,
    createContext: (opts) => createContext(opts, db),
    maxBatchSize: MAX_BATCH_CALLS,
  });
  res.headers.set("cache-control", "no-store");
  return res;
}

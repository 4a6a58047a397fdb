import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { consoleMetrics } from "../metrics/console-metrics";
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
  const started = performance.now();
  const res = await answerTrpc(req, db);
  countTrpcRequest(new URL(req.url), res.status, (performance.now() - started) / 1000);
  return res;
}

const knownProcedures = new Set(Object.keys(appRouter._def.procedures));

/** One count per procedure of the call (a batch names several); names the router lacks count as "unknown". */
function countTrpcRequest(url: URL, status: number, seconds: number): void {
  const m = consoleMetrics();
  m.apiSeconds.observe({ api: "trpc" }, seconds);
  const path = url.pathname.startsWith(`${TRPC_ENDPOINT}/`) ? url.pathname.slice(TRPC_ENDPOINT.length + 1) : "";
  let names: string[];
  try {
    names = decodeURIComponent(path).split(",").slice(0, MAX_BATCH_CALLS);
  } catch {
    names = ["unknown"];
  }
  for (const name of names) {
    m.apiRequests.inc({ api: "trpc", endpoint: knownProcedures.has(name) ? name : "unknown", status: String(status) });
  }
}

async function answerTrpc(req: Request, db?: Db): Promise<Response> {
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

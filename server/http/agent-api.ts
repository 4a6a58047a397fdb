import { randomUUID } from "node:crypto";
import { consoleMetrics } from "../metrics/console-metrics";
import { BodyTooLarge, readBodyBytes } from "./body-limit";
import { type ZodType, z } from "zod";
import {
  LONG_POLL_SECONDS,
  MAX_BODY_BYTES,
  parseSpecKey,
  zEnrollRequest,
  zStatusReport,
} from "../../core/protocol/agent-api";
import type { Db } from "../db";
import { APP_ERROR_TRANSPORT, AppError } from "../errors";
import { logger } from "../log";
import { clientAddress } from "../trpc/context";
import type { RequestMeta } from "../services/audit/record";
import { authenticateAgent } from "../services/gateways/agent-auth";
import { waitForDesiredSpec } from "../services/gateways/desired";
import { checkEnrollToken, enrollGateway } from "../services/gateways/enroll";
import { recordAgentStatus } from "../services/gateways/status";
import { bearerToken } from "../services/gateways/tokens";
import { badTextMessage, findBadText } from "../input";

/**
 * The agent endpoints as plain fetch-API handlers (Request -> Response), so that the Next.js
 * route files and a bare Node HTTP server in tests serve the very same code. Agents are not
 * browsers: they authenticate with a bearer token and never get cookies.
 */

export interface AgentApiOptions {
  /** long-poll timeout; tests shorten it */
  longPollMs?: number;
  /** how often a waiting poll re-reads the database */
  recheckMs?: number;
}

const DEFAULT_RECHECK_MS = 2_000;

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });

export const errorResponse = (status: number, error: string, extra: Record<string, unknown> = {}) =>
  json(status, { error, ...extra }, status === 401 ? { "www-authenticate": 'Bearer realm="gatehouse-agent"' } : {});

class BadRequest extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
    readonly issues: { path: (string | number)[]; message: string }[] = [],
  ) {
    super(message);
  }
}

export function metaOf(req: Request): RequestMeta {
  return {
    ip: clientAddress(req.headers),
    userAgent: (req.headers.get("user-agent") ?? "").slice(0, 400),
    requestId: req.headers.get("x-request-id")?.slice(0, 64) ?? randomUUID(),
  };
}

export async function readJsonBody<T>(req: Request, schema: ZodType<T>): Promise<T> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type))
    throw new BadRequest(415, "The body must be JSON (content-type: application/json)");
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new BadRequest(413, `The body must be at most ${MAX_BODY_BYTES} bytes`);
  const text = await readLimited(req, MAX_BODY_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequest(400, "The body is not valid JSON");
  }
  const bad = findBadText(value);
  if (bad !== null) {
    const message = badTextMessage(bad, "body");
    throw new BadRequest(400, message, [{ path: bad.path, message }]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => ({
      path: i.path.filter((p): p is string | number => typeof p !== "symbol"),
      message: i.message,
    }));
    const summary = issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "body"} ${i.message}`)
      .join("; ");
    throw new BadRequest(400, `Invalid request: ${summary}`, issues);
  }
  return parsed.data;
}

/** Reads at most `limit` bytes, whatever content-length claimed. */
async function readLimited(req: Request, limit: number): Promise<string> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readBodyBytes(req, limit);
  } catch (e) {
    if (e instanceof BodyTooLarge) throw new BadRequest(413, `The body must be at most ${limit} bytes`);
    throw e;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes ?? new Uint8Array());
  } catch {
    throw new BadRequest(400, "The body is not valid UTF-8");
  }
}

export async function guarded(req: Request, endpoint: string, fn: () => Promise<Response>): Promise<Response> {
  const started = performance.now();
  const res = await answerGuarded(req, endpoint, fn);
  const m = consoleMetrics();
  m.apiRequests.inc({ api: "agent", endpoint, status: String(res.status) });
  m.apiSeconds.observe({ api: "agent" }, (performance.now() - started) / 1000);
  return res;
}

async function answerGuarded(req: Request, endpoint: string, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BadRequest) return errorResponse(e.status, e.message, e.issues.length ? { issues: e.issues } : {});
    if (e instanceof AppError) {
      return errorResponse(APP_ERROR_TRANSPORT[e.code].http, e.message, e.issues.length ? { issues: e.issues } : {});
    }
    logger.error({ err: e, endpoint, requestId: req.headers.get("x-request-id") }, "agent request failed");
    return errorResponse(500, "The console failed to handle the request; its log has the details");
  }
}

export function handleEnroll(db: Db, req: Request): Promise<Response> {
  return guarded(req, "enroll", async () => {
    const token = bearerToken(req.headers.get("authorization"), "enroll");
    if (token === null) {
      return errorResponse(401, "An enrollment token is required: Authorization: Bearer ghe_...");
    }
    await checkEnrollToken(db, token);
    const body = await readJsonBody(req, zEnrollRequest);
    return json(200, await enrollGateway(db, metaOf(req), token, body));
  });
}

const zHaveParam = z.string().max(40);

export function handleDesired(db: Db, req: Request, opts: AgentApiOptions = {}): Promise<Response> {
  return guarded(req, "desired", async () => {
    const token = bearerToken(req.headers.get("authorization"), "agent");
    if (token === null) return errorResponse(401, "An agent token is required: Authorization: Bearer gha_...");
    const url = new URL(req.url);
    const haveText = zHaveParam.safeParse(url.searchParams.get("have") ?? "");
    const have = haveText.success ? parseSpecKey(haveText.data) : undefined;
    if (have === undefined) {
      return errorResponse(400, 'The "have" parameter must be "<revision>.<failoverEpoch>" or "none"');
    }
    const spec = await waitForDesiredSpec(db, token, have, {
      timeoutMs: opts.longPollMs ?? LONG_POLL_SECONDS * 1000,
      recheckMs: opts.recheckMs ?? DEFAULT_RECHECK_MS,
      signal: req.signal,
    });
    if (spec === null) return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
    return json(200, { spec });
  });
}

export function handleStatus(db: Db, req: Request): Promise<Response> {
  return guarded(req, "status", async () => {
    const token = bearerToken(req.headers.get("authorization"), "agent");
    if (token === null) return errorResponse(401, "An agent token is required: Authorization: Bearer gha_...");
    // a wrong token is a 401 whatever the body holds
    await authenticateAgent(db, token);
    const body = await readJsonBody(req, zStatusReport);
    return json(200, await recordAgentStatus(db, metaOf(req), token, body));
  });
}

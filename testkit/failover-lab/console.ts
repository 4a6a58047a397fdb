import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "../../server/db";
import { hashPassword } from "../../server/services/auth/password";
import { handleHealth } from "../../server/http/agent-health";
import { handleDesired, handleEnroll, handleStatus } from "../../server/http/agent-api";
import { type GatewayTestDb, gatewayTestDb } from "../server/gateways";
import { usernameKey } from "../../server/services/auth/username";
import { createContext } from "../../server/trpc/context";
import { appRouter } from "../../server/trpc/root";
import { stampPeer } from "../../server/http/peer";

/**
 * The console's HTTP surface without building Next.js, for tests and benchmarks that run real
 * agents: the agent endpoints and the tRPC API (the same handlers the route files call) on one
 * 127.0.0.1 port, over a fresh SQLite database with a user of each role.
 */

export const TEST_USERS = {
  admin: { username: "admin", password: "failover-admin-password" },
  operator: { username: "olga", password: "failover-operator-password" },
  viewer: { username: "vic", password: "failover-viewer-password" },
} as const;

export interface TestConsole {
  url: string;
  db: Db;
  stop(): Promise<void>;
}

async function toRequest(req: IncomingMessage, base: string, signal: AbortSignal): Promise<Request> {
  stampPeer(req);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`${base}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") headers[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) return void res.end();
  // streamed: server-sent events must reach the client as they are written
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) break;
    res.write(chunk);
  }
  res.end();
}

export async function startTestConsole(opts: { longPollMs?: number } = {}): Promise<TestConsole> {
  const store: GatewayTestDb = await gatewayTestDb();
  const { db } = store;
  for (const [role, u] of Object.entries(TEST_USERS)) {
    await db.user.create({
      data: {
        username: u.username,
        usernameKey: usernameKey(u.username),
        passwordHash: await hashPassword(u.password),
        role,
      },
    });
  }
  let base = "";
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const hangup = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) hangup.abort();
    });
    try {
      const request = await toRequest(req, base, hangup.signal);
      const path = new URL(request.url).pathname;
      let response: Response;
      if (path.startsWith("/api/trpc/")) {
        response = await fetchRequestHandler({
          endpoint: "/api/trpc",
          req: request,
          router: appRouter,
          createContext: (o) => createContext(o, db),
        });
      } else if (path === "/api/agent/v1/enroll" && req.method === "POST") response = await handleEnroll(db, request);
      else if (path === "/api/agent/v1/desired" && req.method === "GET") {
        response = await handleDesired(db, request, { longPollMs: opts.longPollMs, recheckMs: 2_000 });
      } else if (path === "/api/agent/v1/status" && req.method === "POST") response = await handleStatus(db, request);
      else if (path === "/api/agent/v1/health" && req.method === "POST") response = await handleHealth(db, request);
      else response = new Response(JSON.stringify({ error: "not found" }), { status: 404 });
      if (!res.destroyed) await send(res, response);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(e));
      else res.destroy();
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    db,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}

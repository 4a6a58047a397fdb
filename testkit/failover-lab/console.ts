import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { sendFetchResponse, toFetchRequest } from "../server/fetch-bridge";
import type { AddressInfo } from "node:net";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "../../server/db";
import { hashPassword } from "../../server/services/auth/password";
import { handleHealth } from "../../server/http/agent-health";
import { handleDesired, handleEnroll, handleStatus } from "../../server/http/agent-api";
import { type GatewayTestDb, gatewayTestDb } from "../server/gateways";
import { usernameKey } from "../../server/services/auth/username";
import { createContext } from "../../server/trpc/context";
import { appRouter } from "../../server/trpc/root";

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
      const request = toFetchRequest(req, base, hangup.signal);
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
      if (!res.destroyed) await sendFetchResponse(res, response);
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

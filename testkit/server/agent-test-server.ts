import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { sendFetchResponse, toFetchRequest } from "./fetch-bridge";
import type { AddressInfo } from "node:net";
import type { Db } from "../../server/db";
import { handleHealth } from "../../server/http/agent-health";
import { type AgentApiOptions, handleDesired, handleEnroll, handleStatus } from "../../server/http/agent-api";

/**
 * The agent endpoints behind a bare Node HTTP server on 127.0.0.1, for tests that run the real
 * agent process: the same handlers the Next.js route files call, without building the console.
 */
export interface AgentApiServer {
  url: string;
  port: number;
  /** drops every connection (a waiting long poll too), as a crashed console would */
  stop(): Promise<void>;
  /** listens again on the same port */
  start(): Promise<void>;
}

export async function startAgentApiServer(db: Db, opts: AgentApiOptions = {}): Promise<AgentApiServer> {
  let server: Server | null = null;
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const hangup = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) hangup.abort();
    });
    try {
      const request = toFetchRequest(req, `http://127.0.0.1:${port}`, hangup.signal);
      const path = new URL(request.url).pathname;
      const response =
        path === "/api/agent/v1/enroll" && req.method === "POST"
          ? await handleEnroll(db, request)
          : path === "/api/agent/v1/desired" && req.method === "GET"
            ? await handleDesired(db, request, opts)
            : path === "/api/agent/v1/status" && req.method === "POST"
              ? await handleStatus(db, request)
              : path === "/api/agent/v1/health" && req.method === "POST"
                ? await handleHealth(db, request)
                : new Response(JSON.stringify({ error: "not found" }), { status: 404 });
      if (!res.destroyed) await sendFetchResponse(res, response);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500).end(String(e));
      }
    }
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => void handle(req, res));
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const s = server;
        server = null;
        if (s === null) return resolve();
        s.close(() => resolve());
        s.closeAllConnections();
      }),
    start: listen,
  };
}

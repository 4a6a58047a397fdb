import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "../../server/db";
import { openApiDocument } from "../../server/http/openapi";
import { createContext } from "../../server/trpc/context";
import { appRouter } from "../../server/trpc/root";
import { sendFetchResponse, toFetchRequest } from "./fetch-bridge";

/**
 * The console's /api/trpc (and /api/openapi.json) behind a bare Node HTTP server on 127.0.0.1,
 * for tests that run a real client process (the gatehouse command line): the same handler the
 * Next.js route file mounts, without building the console.
 */
export interface ConsoleApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startConsoleApiServer(db: Db): Promise<ConsoleApiServer> {
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const request = toFetchRequest(req, `http://127.0.0.1:${port}`);
      const path = new URL(request.url).pathname;
      const response = path.startsWith("/api/trpc/")
        ? await fetchRequestHandler({
            endpoint: "/api/trpc",
            req: request,
            router: appRouter,
            createContext: (opts) => createContext(opts, db),
          })
        : path === "/api/openapi.json"
          ? Response.json(openApiDocument())
          : new Response("not found", { status: 404 });
      await sendFetchResponse(res, response);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Db } from "../../server/db";
import { openApiDocument } from "../../server/http/openapi";
import { createContext } from "../../server/trpc/context";
import { appRouter } from "../../server/trpc/root";

/**
 * The console's /api/trpc (and /api/openapi.json) behind a bare Node HTTP server on 127.0.0.1,
 * for tests that run a real client process (the gatehouse command line): the same handler the
 * Next.js route file mounts, without building the console.
 */
export interface ConsoleApiServer {
  url: string;
  close(): Promise<void>;
}

async function toRequest(req: IncomingMessage, port: number): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`http://127.0.0.1:${port}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

export async function startConsoleApiServer(db: Db): Promise<ConsoleApiServer> {
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const request = await toRequest(req, port);
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
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(Buffer.from(await response.arrayBuffer()));
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

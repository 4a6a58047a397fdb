import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { stampPeer } from "../../server/http/peer";

/**
 * The bridge between a bare Node HTTP server and the console's fetch-style handlers, for tests
 * that serve the real handlers without building the console: the peer address is stamped the way
 * the console's own server does it, and answers are streamed (server-sent events and long polls
 * reach the client as they are written).
 */

export function toFetchRequest(req: IncomingMessage, base: string, signal?: AbortSignal): Request {
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

export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") headers[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) return void res.end();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) break;
    res.write(chunk);
  }
  res.end();
}

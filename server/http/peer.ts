import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { PEER_HEADER, PEER_TLS_HEADER } from "./peer-header";

export { peerOf } from "./peer-header";

/**
 * Route handlers in Next.js get a fetch Request without the socket, and `next start` passes a client's own
 * X-Forwarded-For through unchanged. So the console stamps the TCP peer's address (and whether the connection is
 * TLS) on every request under its own header names, replacing anything a client sent under those names, before
 * Next.js sees the request.
 */

export function stampPeer(req: IncomingMessage): void {
  req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "";
  req.headers[PEER_TLS_HEADER] = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? "1" : "0";
}

const installed = Symbol.for("gatehouse.peerStamp");

/**
 * Stamps every request of every HTTP(S) server in this process, Next.js's own included, before any
 * listener runs. Called once from instrumentation.ts.
 */
export function stampPeersOnEveryServer(): void {
  for (const proto of [http.Server.prototype, https.Server.prototype] as unknown as Record<symbol, unknown>[]) {
    if (proto[installed]) continue;
    const target = proto as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
    const emit = target.emit;
    target.emit = function (this: unknown, event: string | symbol, ...args: unknown[]) {
      if (event === "request") stampPeer(args[0] as IncomingMessage);
      return emit.call(this, event, ...args);
    };
    proto[installed] = true;
  }
}

import http from "node:http";
import https from "node:https";

/**
 * The agent's HTTP calls to the console, on node:http(s) with kept-alive connections: a health
 * report goes out every second, and this costs a fraction of what fetch (undici) costs per call,
 * and spares the agent loading undici at all (its memory counts on every gateway).
 */
export interface HttpAnswer {
  status: number;
  statusText: string;
  body: string;
}

export interface HttpCall {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** MAX_ANSWER_BYTES unless told */
  limitBytes?: number;
}

export type HttpRequest = (url: string, call: HttpCall) => Promise<HttpAnswer>;

/** an answer larger than this is no console's: refused instead of held */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxFreeSockets: 2 }),
  "https:": new https.Agent({ keepAlive: true, maxFreeSockets: 2 }),
};

/** A failed call, with the system's code (ECONNREFUSED, ENOTFOUND, a certificate error) when there is one. */
export class HttpCallError extends Error {
  override name = "HttpCallError";
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

function once(url: URL, call: HttpCall): Promise<HttpAnswer & { reusedSocket: boolean }> {
  const protocol = url.protocol as keyof typeof agents;
  const transport = protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    const headers: Record<string, string | number> = { ...call.headers };
    if (call.body !== undefined) headers["content-length"] = Buffer.byteLength(call.body);
    const req = transport.request(url, { method: call.method, headers, agent: agents[protocol], signal: call.signal });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const limit = call.limitBytes ?? MAX_ANSWER_BYTES;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
        else if (!settled) {
          settle(() => reject(new HttpCallError(`the answer is larger than ${limit} bytes`)));
          req.destroy();
        }
      });
      res.on("end", () =>
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            body: Buffer.concat(chunks).toString("utf8"),
            reusedSocket: req.reusedSocket,
          }),
        ),
      );
      res.on("error", (e) => settle(() => reject(e)));
    });
    req.on("error", (e: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          e.name === "AbortError"
            ? e
            : Object.assign(new HttpCallError(e.message, e.code), { reusedSocket: req.reusedSocket }),
        ),
      ),
    );
    req.end(call.body);
  });
}

/**
 * One call. A kept-alive connection the console closed while idle fails the next call at once
 * (ECONNRESET before any answer); that call is made once more on a new connection, as Node's
 * documentation advises. The console has almost surely not seen it, and the calls that reuse a
 * connection are safe to repeat anyway (reports carry whole state, events their ids); enrollment,
 * which is not, is a process's first call and never reuses one.
 */
export async function httpRequest(target: string, call: HttpCall): Promise<HttpAnswer> {
  const url = new URL(target);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new HttpCallError(`${url.protocol} is not http: or https:`);
  }
  try {
    const { reusedSocket: _, ...answer } = await once(url, call);
    return answer;
  } catch (e) {
    const stale = (e as { reusedSocket?: boolean }).reusedSocket === true && (e as HttpCallError).code === "ECONNRESET";
    if (!stale || call.signal?.aborted) throw e;
    const { reusedSocket: _, ...answer } = await once(url, call);
    return answer;
  }
}

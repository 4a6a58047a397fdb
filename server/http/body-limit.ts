/** The largest request body the console reads on /api/trpc: no procedure needs more. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes (${limit / 1024 / 1024} MiB); it was not read`);
  }
}

/**
 * The body's bytes, refusing (BodyTooLarge) as soon as Content-Length or the bytes actually
 * received, for a chunked body, pass `limit`: nothing larger is ever buffered. null: no body.
 */
export async function readBodyBytes(req: Request, limit: number): Promise<ReturnType<typeof Buffer.concat> | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new BodyTooLarge(limit);
  if (req.body === null) return null;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The request with its body read into memory (readBodyBytes): nothing larger than `limit` is parsed. */
export async function withLimitedBody(req: Request, limit = MAX_BODY_BYTES): Promise<Request> {
  const body = await readBodyBytes(req, limit);
  if (body === null) return req;
  return new Request(req.url, { method: req.method, headers: req.headers, body, signal: req.signal });
}

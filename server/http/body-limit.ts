/** The largest request body the console reads on /api/trpc: no procedure needs more. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes (${limit / 1024 / 1024} MiB); it was not read`);
  }
}

/**
 * The request with its body read into memory, refusing (BodyTooLarge) as soon as Content-Length or the bytes
 * actually received, for a chunked body, pass `limit`: nothing larger is ever buffered or parsed.
 */
export async function withLimitedBody(req: Request, limit = MAX_BODY_BYTES): Promise<Request> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new BodyTooLarge(limit);
  if (req.body === null) return req;
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
  return new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body: Buffer.concat(chunks),
    signal: req.signal,
  });
}

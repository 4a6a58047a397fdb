/** Calls one HTTP request may carry: a page batches a few dozen queries at most. */
export const MAX_BATCH_CALLS = 50;

/**
 * Procedures a batch must not carry: a batch runs its calls concurrently, so a thousand sign-ins in one request
 * would all start before the first failure is counted. Alone, sign-in is one call per request like any other.
 */
const ALONE_ONLY = new Set(["auth.login"]);

export interface GuardRefusal {
  status: 400;
  message: string;
}

/** Checks a /api/trpc URL before anything is parsed: batch size, and procedures that may not be batched. */
export function checkTrpcUrl(url: URL, endpoint: string): GuardRefusal | null {
  if (url.searchParams.get("batch") !== "1") return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice(endpoint.length + 1));
  } catch {
    return { status: 400, message: "The procedure path is not valid percent-encoding" };
  }
  const calls = path.split(",");
  if (calls.length > MAX_BATCH_CALLS) {
    return {
      status: 400,
      message: `A batch may hold at most ${MAX_BATCH_CALLS} calls; this one holds ${calls.length}`,
    };
  }
  const alone = calls.find((c) => ALONE_ONLY.has(c));
  if (alone && calls.length > 1) {
    return { status: 400, message: `${alone} cannot be batched with other calls; send it as a request of its own` };
  }
  return null;
}

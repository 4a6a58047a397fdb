import {
  AGENT_API_PREFIX,
  type EnrollRequest,
  type EnrollResponse,
  formatSpecKey,
  LONG_POLL_SECONDS,
  type SpecKey,
  type StatusAck,
  type StatusReport,
  zDesiredResponse,
  zEnrollResponse,
  zErrorBody,
  zStatusAck,
} from "../../core/protocol/agent-api";

/**
 * The agent's side of the agent protocol (protocol.ts): plain fetch with a bearer token and a
 * timeout on every call. Failures are ConsoleErrors whose kind tells the loop what to do.
 */
export type ConsoleErrorKind =
  /** no answer: network down, DNS, refused, timed out */
  | "unreachable"
  /** 401: the token is unknown, used, expired or revoked */
  | "unauthorized"
  /** 4xx: the console refused what we sent */
  | "rejected"
  /** 5xx */
  | "server"
  /** an answer we cannot understand */
  | "protocol";

export class ConsoleError extends Error {
  override name = "ConsoleError";
  constructor(
    readonly kind: ConsoleErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ConsoleTarget {
  consoleUrl: string;
  token: string;
}

export interface ConsoleClientOptions {
  /** read at every call, so a token written by a later `enroll` is picked up without a restart */
  target: () => ConsoleTarget;
  userAgent: string;
  fetch?: typeof fetch;
  /** per-call timeout for enroll and status */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 15_000;
/** the console answers a long poll after LONG_POLL_SECONDS: wait a little longer than that */
const LONG_POLL_GRACE_MS = 10_000;

export type DesiredResult = { kind: "spec"; spec: unknown } | { kind: "unchanged" };

export class ConsoleClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ConsoleClientOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
  }

  private async call(
    path: string,
    init: { method: "GET" | "POST"; body?: unknown; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Response> {
    const { consoleUrl, token } = this.opts.target();
    const timeout = AbortSignal.timeout(init.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(`${consoleUrl}${AGENT_API_PREFIX}/${path}`, {
        method: init.method,
        headers: {
          authorization: `Bearer ${token}`,
          "user-agent": this.opts.userAgent,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
        redirect: "error",
      });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const reason = timeout.aborted ? `no answer within ${init.timeoutMs} ms` : describeFetchError(e);
      throw new ConsoleError("unreachable", `cannot reach the console at ${consoleUrl}: ${reason}`);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let message = text.slice(0, 500) || res.statusText;
    try {
      const body = zErrorBody.safeParse(JSON.parse(text));
      if (body.success) message = body.data.error;
    } catch {
      // not JSON: keep the text
    }
    const kind: ConsoleErrorKind = res.status === 401 ? "unauthorized" : res.status >= 500 ? "server" : "rejected";
    throw new ConsoleError(kind, `the console answered ${res.status}: ${message}`, res.status);
  }

  private async jsonOf(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new ConsoleError("protocol", "the console's answer is not JSON (is the URL the console's?)", res.status);
    }
  }

  /** The target's token is the enrollment token here. */
  async enroll(body: EnrollRequest): Promise<EnrollResponse> {
    const res = await this.call("enroll", {
      method: "POST",
      body,
      timeoutMs: this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
    });
    const parsed = zEnrollResponse.safeParse(await this.jsonOf(res));
    if (!parsed.success)
      throw new ConsoleError("protocol", "the console's enrollment answer is not what this agent expects");
    return parsed.data;
  }

  /** Long poll: returns once the console has a spec other than `have`, or "unchanged" after its timeout. */
  async desired(have: SpecKey | null, signal?: AbortSignal): Promise<DesiredResult> {
    const res = await this.call(`desired?have=${formatSpecKey(have)}`, {
      method: "GET",
      timeoutMs: LONG_POLL_SECONDS * 1000 + LONG_POLL_GRACE_MS,
      signal,
    });
    if (res.status === 204) return { kind: "unchanged" };
    const parsed = zDesiredResponse.safeParse(await this.jsonOf(res));
    if (!parsed.success || parsed.data.spec === undefined) {
      throw new ConsoleError("protocol", "the console's desired-state answer has no spec");
    }
    return { kind: "spec", spec: parsed.data.spec };
  }

  /** The lightweight health report (core/protocol/health-report.ts); the caller checks the answer's shape. */
  async health(report: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await this.call("health", {
      method: "POST",
      body: report,
      timeoutMs: this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
      signal,
    });
    return this.jsonOf(res);
  }

  async status(report: StatusReport, signal?: AbortSignal): Promise<StatusAck> {
    const res = await this.call("status", {
      method: "POST",
      body: report,
      timeoutMs: this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
      signal,
    });
    const parsed = zStatusAck.safeParse(await this.jsonOf(res));
    if (!parsed.success)
      throw new ConsoleError("protocol", "the console's status answer is not what this agent expects");
    return parsed.data;
  }
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND, certificate problems) in `cause`. */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return e.message;
}

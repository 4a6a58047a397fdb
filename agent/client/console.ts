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
import { type HttpAnswer, type HttpRequest, httpRequest } from "./http";

/**
 * The agent's side of the agent protocol (protocol.ts): HTTP calls (http.ts) with a bearer token
 * and a timeout on every call. Failures are ConsoleErrors whose kind tells the loop what to do.
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
  request?: HttpRequest;
  /** per-call timeout for enroll and status */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 15_000;
/** the console answers a long poll after LONG_POLL_SECONDS: wait a little longer than that */
const LONG_POLL_GRACE_MS = 10_000;

/**
 * A call's abort signal: aborted when the caller's signal aborts or after `ms`. Released when the
 * call ends, so that nothing of it fires later: health and status reports go out every few
 * seconds, and AbortSignal.timeout's timer would still fire (and build its TimeoutError) long
 * after each one.
 */
export function callDeadline(
  ms: number,
  outer?: AbortSignal,
): { signal: AbortSignal; timedOut: () => boolean; release: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError"));
  }, ms);
  const follow = () => controller.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener("abort", follow, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", follow);
    },
  };
}

export type DesiredResult = { kind: "spec"; spec: unknown } | { kind: "unchanged" };

export class ConsoleClient {
  private readonly request: HttpRequest;

  constructor(private readonly opts: ConsoleClientOptions) {
    this.request = opts.request ?? httpRequest;
  }

  private async call(
    path: string,
    init: { method: "GET" | "POST"; body?: unknown; timeoutMs: number; signal?: AbortSignal },
  ): Promise<HttpAnswer> {
    const { consoleUrl, token } = this.opts.target();
    const deadline = callDeadline(init.timeoutMs, init.signal);
    const signal = deadline.signal;
    let res: HttpAnswer;
    try {
      res = await this.request(`${consoleUrl}${AGENT_API_PREFIX}/${path}`, {
        method: init.method,
        headers: {
          authorization: `Bearer ${token}`,
          "user-agent": this.opts.userAgent,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const reason = deadline.timedOut() ? `no answer within ${init.timeoutMs} ms` : describeCallError(e);
      throw new ConsoleError("unreachable", `cannot reach the console at ${consoleUrl}: ${reason}`);
    } finally {
      deadline.release();
    }
    if (res.status >= 200 && res.status < 300) return res;
    let message = res.body.slice(0, 500) || res.statusText;
    try {
      const body = zErrorBody.safeParse(JSON.parse(res.body));
      if (body.success) message = body.data.error;
    } catch {
      // not JSON: keep the text
    }
    // redirects are not followed: the agent talks to the URL it was enrolled with
    const kind: ConsoleErrorKind = res.status === 401 ? "unauthorized" : res.status >= 500 ? "server" : "rejected";
    throw new ConsoleError(kind, `the console answered ${res.status}: ${message}`, res.status);
  }

  private jsonOf(res: HttpAnswer): unknown {
    try {
      return JSON.parse(res.body);
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
    const parsed = zEnrollResponse.safeParse(this.jsonOf(res));
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
    const parsed = zDesiredResponse.safeParse(this.jsonOf(res));
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
    const parsed = zStatusAck.safeParse(this.jsonOf(res));
    if (!parsed.success)
      throw new ConsoleError("protocol", "the console's status answer is not what this agent expects");
    return parsed.data;
  }
}

/** The system's code (ECONNREFUSED, ENOTFOUND, a certificate error) and its message. */
function describeCallError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

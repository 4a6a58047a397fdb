import { describe, expect, it } from "vitest";
import { callDeadline, ConsoleClient, ConsoleError } from "./console";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("callDeadline", () => {
  it("aborts after its time, as a timeout", async () => {
    const d = callDeadline(20);
    expect(d.signal.aborted).toBe(false);
    await wait(60);
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut()).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe("TimeoutError");
    d.release();
  });

  it("does nothing after it is released", async () => {
    const outer = new AbortController();
    const d = callDeadline(20, outer.signal);
    d.release();
    await wait(60);
    outer.abort();
    expect(d.signal.aborted).toBe(false);
    expect(d.timedOut()).toBe(false);
  });

  it("follows the caller's signal, also one aborted before the call", () => {
    const outer = new AbortController();
    const d = callDeadline(10_000, outer.signal);
    outer.abort(new Error("stopping"));
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut()).toBe(false);
    expect((d.signal.reason as Error).message).toBe("stopping");
    d.release();
    const gone = callDeadline(10_000, AbortSignal.abort());
    expect(gone.signal.aborted).toBe(true);
    gone.release();
  });
});

describe("ConsoleClient timeouts", () => {
  it("says the console gave no answer in time", async () => {
    const hang = (_url: string, call: { signal?: AbortSignal }) =>
      new Promise<never>((_, reject) => call.signal?.addEventListener("abort", () => reject(call.signal?.reason)));
    const client = new ConsoleClient({
      target: () => ({ consoleUrl: "http://127.0.0.1:9", token: "t" }),
      userAgent: "test",
      request: hang,
      timeoutMs: 30,
    });
    const timedOut = await client.status({} as never).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ConsoleError);
    expect((timedOut as ConsoleError).message).toMatch(/no answer within 30 ms/);
  });
});

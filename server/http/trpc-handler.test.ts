import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness, TEST_PASSWORD } from "../../testkit/server/api";
import { MAX_BODY_BYTES } from "./body-limit";
import { PEER_HEADER } from "./peer-header";
import { handleTrpc } from "./trpc-handler";
import { MAX_BATCH_CALLS } from "./trpc-guard";

const BASE = "http://console.test/api/trpc";
const PEER = "198.51.100.20";

function post(path: string, body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", [PEER_HEADER]: PEER, ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

const loginInput = (password: string) => ({ json: { username: "admin", password } });

async function errorOf(res: Response): Promise<{ status: number; message: string; code: string }> {
  const body = (await res.json()) as
    | { error: { json: { message: string; data: { code: string } } } }
    | { error: { json: { message: string; data: { code: string } } } }[];
  const err = Array.isArray(body) ? body[0]?.error : body.error;
  return { status: res.status, message: err?.json.message ?? "", code: err?.json.data.code ?? "" };
}

describe("/api/trpc before any procedure runs", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  const audits = () => h.db.auditEvent.count({ where: { action: { in: ["auth.login", "auth.login_failed"] } } });

  it("refuses sign-in inside a batch: a thousand guesses in one request check no password", async () => {
    const before = await audits();
    const n = 1000;
    const paths = Array(n).fill("auth.login").join(",");
    const input = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [i, loginInput(i === 7 ? TEST_PASSWORD : `guess ${i}`)]),
    );
    const res = await handleTrpc(post(`${paths}?batch=1`, JSON.stringify(input)), h.db);
    const err = await errorOf(res);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(new RegExp(`at most ${MAX_BATCH_CALLS} calls; this one holds ${n}`));
    // two calls, one of them a sign-in: refused as well, with its own reason
    const pair = await handleTrpc(
      post("auth.me,auth.login?batch=1", JSON.stringify({ 1: loginInput(TEST_PASSWORD) })),
      h.db,
    );
    expect(await errorOf(pair)).toMatchObject({
      status: 400,
      message: "auth.login cannot be batched with other calls; send it as a request of its own",
    });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await audits()).toBe(before);
    expect(await h.db.session.count()).toBe(0);
  });

  it("caps every batch at 50 calls with a clear message, and serves one of 50", async () => {
    const over = await handleTrpc(
      new Request(
        `${BASE}/${Array(MAX_BATCH_CALLS + 1)
          .fill("auth.me")
          .join(",")}?batch=1`,
        {
          headers: { [PEER_HEADER]: PEER },
        },
      ),
      h.db,
    );
    expect(await errorOf(over)).toEqual({
      status: 400,
      code: "BAD_REQUEST",
      message: `A batch may hold at most ${MAX_BATCH_CALLS} calls; this one holds ${MAX_BATCH_CALLS + 1}`,
    });
    const ok = await handleTrpc(
      new Request(`${BASE}/${Array(MAX_BATCH_CALLS).fill("auth.me").join(",")}?batch=1`, {
        headers: { [PEER_HEADER]: PEER },
      }),
      h.db,
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as unknown[]).length).toBe(MAX_BATCH_CALLS);
    expect(ok.headers.get("cache-control")).toBe("no-store");
  });

  it("serves a sign-in sent alone, in a batch of one as well", async () => {
    const res = await handleTrpc(post("auth.login?batch=1", JSON.stringify({ 0: loginInput(TEST_PASSWORD) })), h.db);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("gh_session="))).toBe(true);
  });

  it("refuses a body over 1 MiB by its Content-Length, before reading it", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const req = post("auth.login", body, { "content-length": String(200 * 1024 * 1024) });
    const err = await errorOf(await handleTrpc(req, h.db));
    expect(err).toMatchObject({ status: 413, code: "PAYLOAD_TOO_LARGE" });
    expect(err.message).toBe("The request body is larger than 1048576 bytes (1 MiB); it was not read");
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it("refuses a chunked body as soon as more than 1 MiB arrived, and never parses it", async () => {
    const before = await audits();
    let sent = 0;
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"json":{"username":"admin","password":"'));
      },
      pull(controller) {
        sent += chunk.byteLength;
        if (sent > 200 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const err = await errorOf(await handleTrpc(post("auth.login", body), h.db));
    expect(err).toMatchObject({ status: 413, code: "PAYLOAD_TOO_LARGE" });
    expect(sent).toBeLessThan(MAX_BODY_BYTES + 256 * 1024);
    expect(await audits()).toBe(before);
  });

  it("accepts a body of just under 1 MiB (the procedure then judges it)", async () => {
    const padding = "x".repeat(MAX_BODY_BYTES - 100);
    const res = await handleTrpc(
      post("auth.login", JSON.stringify({ json: { username: "admin", password: "p", padding } })),
      h.db,
    );
    expect(res.status).not.toBe(413);
  });

  it('answers {"json":null} with an input error naming the input, never an internal message', async () => {
    for (const path of ["auth.login", "cluster.create", "auth.changePassword"]) {
      const res = await handleTrpc(post(path, '{"json":null}'), h.db);
      const err = await errorOf(res);
      expect(err.status, path).toBe(path === "auth.login" ? 400 : 401);
      if (path === "auth.login") {
        expect(err.code).toBe("BAD_REQUEST");
        expect(err.message).toBe("Invalid input: input must be an object with this procedure's fields, not null");
      }
      expect(err.message).not.toMatch(/Cannot read|undefined|null \(reading|TypeError/);
    }
  });

  it("records the socket's address, not a client's X-Forwarded-For, when no proxy is trusted", async () => {
    await handleTrpc(
      post("auth.login", JSON.stringify({ json: { username: "xff-probe", password: "guess" } }), {
        "x-forwarded-for": "203.0.113.66",
        "x-real-ip": "203.0.113.67",
      }),
      h.db,
    );
    const event = await h.db.auditEvent.findFirst({
      where: { action: "auth.login_failed", actorName: "xff-probe" },
      select: { ip: true },
    });
    expect(event?.ip).toBe(PEER);
  });
});

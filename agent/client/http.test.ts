import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleClient, ConsoleError } from "./console";
import { HttpCallError, httpRequest } from "./http";

/** A console stand-in on 127.0.0.1: each path answers its own way. */
let server: http.Server;
let base: string;
const sockets = new Set<Socket>();
const seen: Array<{ method: string; url: string; auth: string; body: string; remotePort: number }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        auth: req.headers.authorization ?? "",
        body,
        remotePort: req.socket.remotePort ?? 0,
      });
      if (req.url === "/echo") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ got: body }));
      }
      if (req.url === "/big") return res.end("x".repeat(10_000));
      if (req.url === "/slow") return setTimeout(() => res.end("late"), 2000);
      if (req.url === "/truncated") {
        res.writeHead(200, { "content-length": "1000" });
        res.write("partial");
        return setTimeout(() => req.socket.destroy(), 20);
      }
      if (req.url?.startsWith("/api/agent/v1/status")) {
        res.writeHead(301, { location: "https://elsewhere.example/" });
        return res.end();
      }
      if (req.url?.startsWith("/api/agent/v1/health")) {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: "the agent token is revoked" }));
      }
      res.writeHead(404);
      res.end();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe("httpRequest", () => {
  it("sends the body and headers and keeps the connection for the next call", async () => {
    const a = await httpRequest(`${base}/echo`, {
      method: "POST",
      headers: { authorization: "Bearer t" },
      body: "héllo",
    });
    const b = await httpRequest(`${base}/echo`, { method: "POST", headers: {}, body: "again" });
    expect(a).toEqual({ status: 200, statusText: "OK", body: JSON.stringify({ got: "héllo" }) });
    expect(JSON.parse(b.body)).toEqual({ got: "again" });
    const [first, second] = seen.slice(-2);
    expect(first?.auth).toBe("Bearer t");
    expect(second?.remotePort).toBe(first?.remotePort);
  });

  it("makes a call once more when the console closed the kept connection while it was idle", async () => {
    await httpRequest(`${base}/echo`, { method: "GET", headers: {} });
    const before = seen.at(-1)?.remotePort;
    // the server side of every idle connection goes away, as a console's keep-alive timeout does
    for (const s of sockets) s.destroy();
    const again = await httpRequest(`${base}/echo`, { method: "POST", headers: {}, body: "after" });
    expect(JSON.parse(again.body)).toEqual({ got: "after" });
    expect(seen.at(-1)?.remotePort).not.toBe(before);
    expect(seen.filter((s) => s.body === "after")).toHaveLength(1);
  });

  it("a connection that ends before the whole answer is an error, not a short answer", async () => {
    await expect(httpRequest(`${base}/truncated`, { method: "GET", headers: {} })).rejects.toThrow();
  });

  it("refuses an answer over the limit, a scheme other than http(s), and stops when aborted", async () => {
    await expect(httpRequest(`${base}/big`, { method: "GET", headers: {}, limitBytes: 1000 })).rejects.toThrow(
      "the answer is larger than 1000 bytes",
    );
    await expect(httpRequest("ftp://127.0.0.1/", { method: "GET", headers: {} })).rejects.toBeInstanceOf(HttpCallError);
    const started = Date.now();
    await expect(
      httpRequest(`${base}/slow`, { method: "GET", headers: {}, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe("ConsoleClient errors", () => {
  const client = (url: string) =>
    new ConsoleClient({ target: () => ({ consoleUrl: url, token: "t" }), userAgent: "test" });

  it("a refused connection is unreachable and names the system's reason", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await client(`http://127.0.0.1:${port}`)
      .health({})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleError);
    expect(err).toMatchObject({ kind: "unreachable" });
    expect((err as Error).message).toContain("ECONNREFUSED");
  });

  it("a redirect is not followed, and the console's error text is shown", async () => {
    const redirect = await client(base)
      .status({} as never)
      .catch((e: unknown) => e);
    expect(redirect).toMatchObject({ kind: "rejected", status: 301 });
    const revoked = await client(base)
      .health({})
      .catch((e: unknown) => e);
    expect(revoked).toMatchObject({
      kind: "unauthorized",
      message: "the console answered 401: the agent token is revoked",
    });
  });

  it("a call past its timeout is unreachable, with the time waited", async () => {
    const slow = new ConsoleClient({
      // the URL's fragment swallows the API path: the call lands on /slow
      target: () => ({ consoleUrl: `${base}/slow#`, token: "t" }),
      userAgent: "test",
      timeoutMs: 100,
    });
    const err = await slow.health({}).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "unreachable" });
    expect((err as Error).message).toContain("no answer within 100 ms");
  });
});

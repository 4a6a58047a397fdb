import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zHealthCheck } from "../../core/policy/virtual-service";
import { execRunner } from "../apply/runner";
import { runCheck } from "./checks";
import { commandCheck } from "./command-check";

let server: http.Server;
let port = 0;
let closedPort = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/health") res.end("status: all good");
    else if (req.url === "/slow") setTimeout(() => res.end("late"), 500);
    else {
      res.statusCode = 503;
      res.end("down");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
  // a port nobody listens on: bind, read, close
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const check = (over: Record<string, unknown>) => zHealthCheck.parse({ timeoutMs: 200, intervalMs: 1000, ...over });

describe("real server checks", () => {
  it("TCP connect passes on a listening port and fails on a closed one", async () => {
    expect(await runCheck(check({ kind: "tcp" }), "127.0.0.1", port)).toBeNull();
    expect(await runCheck(check({ kind: "tcp" }), "127.0.0.1", closedPort)).toBe("ECONNREFUSED");
  });

  it("HTTP GET checks the status and the body text", async () => {
    expect(
      await runCheck(check({ kind: "http", path: "/health", bodyText: "all good" }), "127.0.0.1", port),
    ).toBeNull();
    expect(await runCheck(check({ kind: "http", path: "/health", bodyText: "broken" }), "127.0.0.1", port)).toBe(
      'the body does not contain "broken"',
    );
    expect(await runCheck(check({ kind: "http", path: "/" }), "127.0.0.1", port)).toBe("status 503, expected 200");
    expect(await runCheck(check({ kind: "http", path: "/", expectStatus: 503 }), "127.0.0.1", port)).toBeNull();
  });

  it("an answer later than the timeout fails", async () => {
    expect(await runCheck(check({ kind: "http", path: "/slow" }), "127.0.0.1", port)).toBe("no answer within 200 ms");
  });

  it("none always passes", async () => {
    expect(await runCheck(check({ kind: "none" }), "127.0.0.1", closedPort)).toBeNull();
  });
});

describe("the same checks through curl (agents whose datapath is a namespace)", () => {
  const curl = commandCheck(execRunner({ defaultTimeoutMs: 5000 }));
  it("agrees with the in-process checks", async () => {
    expect(await curl(check({ kind: "tcp" }), "127.0.0.1", port)).toBeNull();
    expect(await curl(check({ kind: "tcp" }), "127.0.0.1", closedPort)).toBe("ECONNREFUSED");
    expect(await curl(check({ kind: "http", path: "/health", bodyText: "all good" }), "127.0.0.1", port)).toBeNull();
    expect(await curl(check({ kind: "http", path: "/health", bodyText: "broken" }), "127.0.0.1", port)).toBe(
      'the body does not contain "broken"',
    );
    expect(await curl(check({ kind: "http", path: "/" }), "127.0.0.1", port)).toBe("status 503, expected 200");
    expect(await curl(check({ kind: "http", path: "/slow" }), "127.0.0.1", port)).toBe("no answer within 200 ms");
  });
});

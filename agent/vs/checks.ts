import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { HealthCheck } from "../../core/policy/virtual-service";

/**
 * The checks a real server gets: a TCP connect, or an HTTP(S) GET whose status (and optionally
 * body text) must match. Each resolves to null when the server passed, or the reason it failed;
 * none takes longer than the check's timeout. HTTPS does not verify the server's certificate
 * (as keepalived's SSL_GET): it checks that the service answers, not who it is.
 */

export type CheckResult = string | null;
export type RunCheck = (check: HealthCheck, address: string, port: number) => Promise<CheckResult>;

const MAX_BODY = 64 * 1024;

export function tcpCheck(address: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    socket.once("connect", () => done(null));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

export function httpCheck(check: HealthCheck, address: string, port: number): Promise<CheckResult> {
  const tls = check.kind === "https";
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const options = {
      host: address,
      port,
      path: check.path,
      method: "GET",
      headers: { "user-agent": "gatehouse-health", connection: "close" },
      ...(tls ? { rejectUnauthorized: false } : {}),
    };
    const req = (tls ? https : http).request(options, (res) => {
      if (res.statusCode !== check.expectStatus) {
        done(`status ${res.statusCode ?? "none"}, expected ${check.expectStatus}`);
        return;
      }
      if (check.bodyText === "") {
        done(null);
        return;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.includes(check.bodyText)) done(null);
        else if (body.length > MAX_BODY) done(`the body does not contain "${check.bodyText}"`);
      });
      res.on("end", () => done(body.includes(check.bodyText) ? null : `the body does not contain "${check.bodyText}"`));
      res.on("error", (e) => done(e.message));
    });
    const timer = setTimeout(() => done(`no answer within ${check.timeoutMs} ms`), check.timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    req.end();
  });
}

export const runCheck: RunCheck = (check, address, port) => {
  if (check.kind === "tcp") return tcpCheck(address, port, check.timeoutMs);
  if (check.kind === "http" || check.kind === "https") return httpCheck(check, address, port);
  return Promise.resolve(null);
};

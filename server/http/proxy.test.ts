import { NextRequest } from "next/server";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { PEER_HEADER, PEER_TLS_HEADER } from "./peer-header";

// the settings are read once, when server/env.ts is first imported
vi.hoisted(() => {
  process.env.GATEHOUSE_TRUSTED_PROXIES = "10.0.0.1";
});

let proxy: (req: NextRequest) => Response;
beforeAll(async () => {
  proxy = (await import("../../proxy")).proxy;
});

const request = (path: string, headers: Record<string, string>) =>
  new NextRequest(`http://console.test${path}`, { headers: { host: "console.test", ...headers } });

describe("proxy.ts security headers", () => {
  it("gives every page a CSP with a fresh nonce that forbids framing", () => {
    const a = proxy(request("/", { [PEER_HEADER]: "198.51.100.1" })).headers.get("content-security-policy") ?? "";
    const b = proxy(request("/", { [PEER_HEADER]: "198.51.100.1" })).headers.get("content-security-policy") ?? "";
    expect(a).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'/);
    expect(a).toContain("frame-ancestors 'none'");
    expect(a).toContain("object-src 'none'");
    expect(a).not.toContain("unsafe-eval");
    expect(a).not.toBe(b);
  });

  it("marks API answers no-store and not embeddable", () => {
    const res = proxy(request("/api/trpc/auth.me", { [PEER_HEADER]: "198.51.100.1" }));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("sends HSTS only over https: TLS to the console itself, or a trusted proxy saying https", () => {
    const hsts = (headers: Record<string, string>) =>
      proxy(request("/", headers)).headers.get("strict-transport-security");
    expect(hsts({ [PEER_HEADER]: "198.51.100.1" })).toBeNull();
    // anyone may claim https; only the trusted proxy is believed
    expect(hsts({ [PEER_HEADER]: "198.51.100.1", "x-forwarded-proto": "https" })).toBeNull();
    expect(hsts({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-proto": "https" })).toBe("max-age=31536000");
    expect(hsts({ [PEER_HEADER]: "198.51.100.1", [PEER_TLS_HEADER]: "1" })).toBe("max-age=31536000");
  });
});

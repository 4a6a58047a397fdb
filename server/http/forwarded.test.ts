import { describe, expect, it } from "vitest";
import { isTrusted, parseTrustedProxies, resolveOrigin } from "./forwarded";

const trusted = parseTrustedProxies("10.0.0.1, 192.168.0.0/16, fd00::/8");
const req = (peer: string, headers: Record<string, string>, tls = false) => ({
  peer,
  tls,
  headers: new Headers(headers),
});

describe("trusted proxies", () => {
  it("parses addresses and CIDRs, and names an entry that is neither", () => {
    expect(parseTrustedProxies("")).toEqual([]);
    expect(isTrusted("10.0.0.1", trusted)).toBe(true);
    expect(isTrusted("10.0.0.2", trusted)).toBe(false);
    expect(isTrusted("192.168.7.9", trusted)).toBe(true);
    expect(isTrusted("::ffff:192.168.7.9", trusted)).toBe(true);
    expect(isTrusted("fd12::1", trusted)).toBe(true);
    expect(isTrusted("not an address", trusted)).toBe(false);
    expect(() => parseTrustedProxies("10.0.0.1, proxy.example")).toThrow(
      '"proxy.example" is neither an IP address nor a CIDR range',
    );
    expect(() => parseTrustedProxies("10.0.0.0/40")).toThrow(/"10.0.0.0\/40"/);
  });
});

describe("resolveOrigin", () => {
  const forged = { "x-forwarded-for": "203.0.113.1", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };

  it("ignores every forwarded header from a peer that is not a trusted proxy", () => {
    expect(resolveOrigin(req("198.51.100.4", { host: "console.test", ...forged }), trusted)).toEqual({
      ip: "198.51.100.4",
      host: "console.test",
      proto: "http",
    });
    expect(resolveOrigin(req("::ffff:198.51.100.4", forged), [])).toMatchObject({ ip: "198.51.100.4" });
  });

  it("believes a trusted proxy, taking the nearest untrusted hop as the client", () => {
    const r = req("10.0.0.1", {
      host: "10.0.0.5:3000",
      "x-forwarded-for": "203.0.113.1, 198.51.100.9, 192.168.1.1",
      "x-forwarded-host": "console.example",
      "x-forwarded-proto": "https",
    });
    // 203.0.113.1 is what the client claimed; 198.51.100.9 is who connected to the first trusted proxy
    expect(resolveOrigin(r, trusted)).toEqual({ ip: "198.51.100.9", host: "console.example", proto: "https" });
  });

  it("falls back to the peer when a trusted proxy sends nothing or junk", () => {
    expect(resolveOrigin(req("10.0.0.1", { host: "c" }), trusted)).toEqual({
      ip: "10.0.0.1",
      host: "c",
      proto: "http",
    });
    expect(resolveOrigin(req("10.0.0.1", { "x-forwarded-for": "junk" }), trusted).ip).toBe("10.0.0.1");
    expect(resolveOrigin(req("10.0.0.1", { "x-forwarded-proto": "gopher" }, true), trusted).proto).toBe("https");
  });

  it("knows no client without a stamped peer, and then believes nothing forwarded", () => {
    expect(resolveOrigin(req("", forged), trusted)).toEqual({ ip: "", host: null, proto: "http" });
  });
});

import { describe, expect, it } from "vitest";
import { parseTrustedProxies } from "../http/forwarded";
import { PEER_HEADER } from "../http/peer-header";
import { clientAddress, isSameOrigin } from "./context";

const headers = (h: Record<string, string>) => new Headers(h);

describe("the CSRF origin check", () => {
  it("compares Origin with the Host the browser used, ignoring X-Forwarded-Host from anyone but a trusted proxy", () => {
    const forged = headers({
      [PEER_HEADER]: "198.51.100.3",
      host: "console.test",
      origin: "http://evil.example",
      "x-forwarded-host": "evil.example",
    });
    expect(isSameOrigin(forged, [])).toBe(false);
    expect(
      isSameOrigin(headers({ [PEER_HEADER]: "198.51.100.3", host: "console.test", origin: "http://console.test" }), []),
    ).toBe(true);
    const viaProxy = headers({
      [PEER_HEADER]: "10.0.0.1",
      host: "10.0.0.5:3000",
      origin: "https://console.example",
      "x-forwarded-host": "console.example",
    });
    expect(isSameOrigin(viaProxy, parseTrustedProxies("10.0.0.1"))).toBe(true);
    expect(isSameOrigin(viaProxy, [])).toBe(false);
  });

  it("takes the client address from X-Forwarded-For only through a trusted proxy", () => {
    const h = headers({ [PEER_HEADER]: "10.0.0.1", "x-forwarded-for": "203.0.113.5" });
    expect(clientAddress(h, [])).toBe("10.0.0.1");
    expect(clientAddress(h, parseTrustedProxies("10.0.0.0/8"))).toBe("203.0.113.5");
  });
});

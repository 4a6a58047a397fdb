import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, hashToken, newToken } from "./tokens";

describe("gateway tokens", () => {
  it("are 256-bit random, prefixed by kind, and hashed with sha256", () => {
    const a = newToken("agent");
    const e = newToken("enroll");
    expect(a).toMatch(/^gha_[A-Za-z0-9_-]{43}$/);
    expect(e).toMatch(/^ghe_[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 100 }, () => newToken("agent"))).size).toBe(100);
    expect(hashToken(a)).toBe(createHash("sha256").update(a).digest("hex"));
  });

  it("accept only a bearer token of the expected kind", () => {
    const a = newToken("agent");
    expect(bearerToken(`Bearer ${a}`, "agent")).toBe(a);
    expect(bearerToken(`bearer   ${a}`, "agent")).toBe(a);
    expect(bearerToken(`Bearer ${a}`, "enroll")).toBeNull();
    expect(bearerToken(a, "agent")).toBeNull();
    expect(bearerToken(null, "agent")).toBeNull();
    expect(bearerToken(`Bearer ${a}x`, "agent")).toBeNull();
    expect(bearerToken(`Bearer ${a} extra`, "agent")).toBeNull();
  });
});

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { open, parseSecretKey, SealedValueError, SecretKeyError, seal } from "./secret-box";

const key = randomBytes(32);

describe("sealing credentials", () => {
  it("round-trips and never contains the plaintext", () => {
    const secret = '{"kind":"password","password":"hunter2-correct-horse"}';
    const sealed = seal(key, secret, "gw1");
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]{8}:/);
    expect(sealed).not.toContain("hunter2");
    expect(open(key, sealed, "gw1")).toBe(secret);
  });

  it("uses a fresh IV each time", () => {
    expect(seal(key, "same", "gw1")).not.toBe(seal(key, "same", "gw1"));
  });

  it("refuses another gateway's context, another key and tampering", () => {
    const sealed = seal(key, "secret", "gw1");
    expect(() => open(key, sealed, "gw2")).toThrow(/another gateway/);
    expect(() => open(randomBytes(32), sealed, "gw1")).toThrow(/another GATEHOUSE_SECRET_KEY/);
    const parts = sealed.split(":");
    const ct = Buffer.from(parts[4] ?? "", "base64url");
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[4] = ct.toString("base64url");
    expect(() => open(key, parts.join(":"), "gw1")).toThrow(SealedValueError);
    expect(() => open(key, "plain text", "gw1")).toThrow(/format/);
  });

  it("reads keys as hex or base64 and refuses anything else", () => {
    expect(parseSecretKey(key.toString("hex")).equals(key)).toBe(true);
    expect(parseSecretKey(key.toString("base64")).equals(key)).toBe(true);
    expect(parseSecretKey(` ${key.toString("base64url")}\n`).equals(key)).toBe(true);
    for (const bad of ["", "short", key.toString("hex").slice(2), randomBytes(16).toString("base64"), "x".repeat(64)]) {
      expect(() => parseSecretKey(bad)).toThrow(SecretKeyError);
    }
  });
});

import { describe, expect, it } from "vitest";
import { FINGERPRINT_RE, fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf } from "./fingerprint";

// public keys and the fingerprints `ssh-keygen -lf` printed for them
const ED25519 = {
  blob: "AAAAC3NzaC1lZDI1NTE5AAAAIHGZTQUUdvGZzC8jAAk2mqw1qQMCOHa9DxqJGjtavYT4",
  fingerprint: "SHA256:KxBrMjs4Y0Dm/Yr4PNSN3Ide4FDH+i5HttnDW9Vn2rM",
};
const RSA = {
  blob: "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDYheqw5RiwUM+Dm2rwDvMRvSA0x+rvZ4BUnyIfnyR3k/Tr5HUPkzswCoTb8gbdYCqOfXrWbLZFNZkJNys9A7RF7NEzJqVGxvKa+O0Y6qTS4pS63ktK5na6JaJNQdXnNMWgl8WqLntrN6zlXFaH5PJ6zDDzLVNfNk7vnPvQCPDUMQ==",
  fingerprint: "SHA256:NzB9GIzM4STacIvp8I+2dTHr5VPSd+yJh9FiodF8FjE",
};

describe("host key fingerprints", () => {
  it("match what ssh-keygen -lf prints", () => {
    expect(fingerprintOf(Buffer.from(ED25519.blob, "base64"))).toBe(ED25519.fingerprint);
    expect(fingerprintOf(Buffer.from(RSA.blob, "base64"))).toBe(RSA.fingerprint);
    expect(ED25519.fingerprint).toMatch(FINGERPRINT_RE);
  });

  it("differ for different keys", () => {
    const other = Buffer.from(ED25519.blob, "base64");
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(fingerprintOf(other)).not.toBe(ED25519.fingerprint);
  });

  it("read the key type from the blob", () => {
    expect(keyTypeOf(Buffer.from(ED25519.blob, "base64"))).toBe("ssh-ed25519");
    expect(keyTypeOf(Buffer.from(RSA.blob, "base64"))).toBe("ssh-rsa");
    expect(keyTypeOf(Buffer.from([0, 0, 0, 200, 1]))).toBe("unknown");
    expect(keyTypeOf(Buffer.alloc(2))).toBe("unknown");
  });

  it("pin an RSA key to its signature algorithms and other keys to their own type", () => {
    expect(hostKeyAlgorithmsFor("ssh-rsa")).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(hostKeyAlgorithmsFor("ssh-ed25519")).toEqual(["ssh-ed25519"]);
  });
});

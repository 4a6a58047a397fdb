import { createHash } from "node:crypto";

/**
 * Host key identity as OpenSSH shows it: `SHA256:` and the unpadded base64 of the sha256 of the
 * key blob (what `ssh-keygen -lf` and the "authenticity of host" prompt print).
 */
export const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named at the start of an SSH public key blob (RFC 4253 6.6), e.g. ssh-ed25519. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || keyBlob.length < 4 + len) return "unknown";
  const type = keyBlob.subarray(4, 4 + len).toString("latin1");
  return /^[A-Za-z0-9@._-]+$/.test(type) ? type : "unknown";
}

/**
 * The host key algorithms a client may offer so that the server must prove the pinned key and no
 * other: without this a server could present another key type it also holds.
 */
export function hostKeyAlgorithmsFor(keyType: string): string[] {
  if (keyType === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [keyType];
}

import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { decodeKey, KEY_BYTES } from "../../key-text";

/**
 * Sealing stored SSH credentials with AES-256-GCM. A sealed value is
 * `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts). The key id (the first bytes of the
 * key's sha256) lets the console say "sealed with another key" instead of a bare decryption
 * failure; the additional data binds a sealed value to its gateway, so copying one gateway's
 * ciphertext onto another row does not decrypt.
 */

export const SECRET_KEY_BYTES = KEY_BYTES;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

export class SealedValueError extends Error {
  override name = "SealedValueError";
}

/** A 32-byte key written as 64 hex digits or as base64 / base64url. */
export function parseSecretKey(text: string): Buffer {
  const key = decodeKey(text);
  if (key === null) {
    throw new SecretKeyError(
      `GATEHOUSE_SECRET_KEY must be ${SECRET_KEY_BYTES} bytes written as 64 hex digits or base64 (e.g. the output of \`openssl rand -hex 32\`)`,
    );
  }
  return key;
}

export const keyId = (key: Buffer) => createHash("sha256").update(key).digest("base64url").slice(0, 8);

export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", keyId(key), iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")].join(
    ":",
  );
}

export function open(key: Buffer, sealed: string, context: string): string {
  const parts = sealed.split(":");
  const [version, kid, ivText, tagText, ctText] = parts;
  if (parts.length !== 5 || version !== "v1" || !kid || !ivText || !tagText || ctText === undefined) {
    throw new SealedValueError("the stored credentials are not in a format this console knows");
  }
  if (kid !== keyId(key)) {
    throw new SealedValueError(
      "the stored credentials were sealed with another GATEHOUSE_SECRET_KEY than the one the console has now",
    );
  }
  const iv = Buffer.from(ivText, "base64url");
  const tag = Buffer.from(tagText, "base64url");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SealedValueError("the stored credentials are damaged");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SealedValueError("the stored credentials are damaged or belong to another gateway");
  }
}

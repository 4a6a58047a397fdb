import { randomBytes } from "node:crypto";
import { decodeKey, KEY_BYTES } from "../../key-text";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { env } from "../../env";
import { logger } from "../../log";

/**
 * The key of the audit hash chain. It lives outside the database (a file, or the environment),
 * so that someone who can write the database but not read this key cannot re-hash events they
 * rewrote. The README says what that does and does not protect against.
 */

export const AUDIT_KEY_BYTES = KEY_BYTES;

export class AuditKeyError extends Error {
  override name = "AuditKeyError";
}

/** 64 hex digits, or base64 / base64url of 32 bytes. */
export function parseAuditKey(text: string, source: string): Buffer {
  const key = decodeKey(text);
  if (key === null) {
    throw new AuditKeyError(
      `${source} must hold a ${AUDIT_KEY_BYTES}-byte key written as 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  return key;
}

/** Next to the SQLite database; ./data for PostgreSQL (whose replicas must then share one key). */
export function defaultAuditKeyFile(databaseUrl: string): string {
  if (databaseUrl.startsWith("file:")) {
    const path = databaseUrl.slice("file:".length).split("?")[0] ?? "";
    if (path !== "" && path !== ":memory:") return resolve(dirname(path), "audit.key");
  }
  return resolve("data", "audit.key");
}

export interface LoadedAuditKey {
  key: Buffer;
  /** where it came from: the file, or "GATEHOUSE_AUDIT_KEY" */
  source: string;
  /** true when this call created the file */
  created: boolean;
}

/**
 * The key from `key` (the environment) when given, else from `file`, which is created with a
 * fresh random key and mode 0600 when it does not exist yet. Creation is exclusive, so two
 * processes starting at once end up with the same key.
 */
export function loadAuditKey(opts: { key?: string | undefined; file: string }): LoadedAuditKey {
  if (opts.key !== undefined) {
    return { key: parseAuditKey(opts.key, "GATEHOUSE_AUDIT_KEY"), source: "GATEHOUSE_AUDIT_KEY", created: false };
  }
  const file = isAbsolute(opts.file) ? opts.file : resolve(opts.file);
  let created = false;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(AUDIT_KEY_BYTES).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    // the mode given to open() is filtered by the umask; make sure it is 0600 all the same
    chmodSync(file, 0o600);
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new AuditKeyError(`cannot create the audit key file ${file}: ${(e as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new AuditKeyError(`cannot read the audit key file ${file}: ${(e as Error).message}`);
  }
  if (!created && (statSync(file).mode & 0o077) !== 0) {
    logger.warn({ file }, "the audit key file can be read by other users; chmod 600 it");
  }
  return { key: parseAuditKey(text, `the audit key file ${file}`), source: file, created };
}

let loaded: LoadedAuditKey | undefined;

/** The console's audit key, loaded (or created) once per process. */
export function auditKeyInfo(): LoadedAuditKey {
  loaded ??= loadAuditKey({
    key: env.GATEHOUSE_AUDIT_KEY,
    file: env.GATEHOUSE_AUDIT_KEY_FILE ?? defaultAuditKeyFile(env.DATABASE_URL),
  });
  return loaded;
}

export const auditKey = (): Buffer => auditKeyInfo().key;

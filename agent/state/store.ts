import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { TOKEN_RE, zApplyResult, zConsoleUrl } from "../../core/protocol/agent-api";

/**
 * The agent's state directory. Everything is written atomically (temp file, fsync, rename) with
 * mode 0600, because the credentials file holds the agent token and a torn last-good spec would
 * leave a rebooted gateway with nothing to re-apply.
 *
 *   credentials.json  console URL and agent token (from `enroll`)
 *   last-good.json    the last spec applied successfully, re-applied when the agent starts
 *   status.json       what the agent runs and its last apply result, for `status`
 */
export const DEFAULT_STATE_DIR = "/var/lib/gatehouse-agent";

export const zCredentials = z.object({
  consoleUrl: zConsoleUrl,
  agentToken: z.string().regex(TOKEN_RE, "is not an agent token"),
  gatewayId: z.string(),
  gatewayName: z.string(),
  clusterId: z.string(),
  clusterName: z.string(),
  enrolledAt: z.string(),
});
export type Credentials = z.infer<typeof zCredentials>;

const zKey = z.object({ revision: z.number().int().min(0), failoverEpoch: z.number().int().min(0) });

export const zLocalStatus = z.object({
  running: zKey.nullable(),
  lastApply: zApplyResult.nullable(),
  /** when the console last answered */
  lastContactAt: z.string().nullable(),
  /** why the console could not be reached, empty when it could */
  consoleError: z.string(),
});
export type LocalStatus = z.infer<typeof zLocalStatus>;

export const zLastGood = z.object({ savedAt: z.string(), spec: z.unknown() });

export class StateError extends Error {
  override name = "StateError";
}

export class StateStore {
  constructor(readonly dir: string) {}

  private path(name: string) {
    return join(this.dir, name);
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private write(name: string, value: unknown): void {
    this.ensureDir();
    const target = this.path(name);
    const tmp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      // a umask or an older file must not widen what the agent token is readable by
      chmodSync(tmp, 0o600);
      renameSync(tmp, target);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** undefined when the file does not exist; throws StateError when it exists but is not what we wrote. */
  private read<T>(name: string, schema: z.ZodType<T>): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(name), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StateError(`cannot read ${this.path(name)}: ${(e as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new StateError(`${this.path(name)} is not valid JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new StateError(`${this.path(name)} is damaged: ${first ? `${first.path.join(".")} ${first.message}` : ""}`);
    }
    return parsed.data;
  }

  readCredentials(): Credentials | undefined {
    return this.read("credentials.json", zCredentials);
  }

  private credentialsSeen: { key: string; value: Credentials | undefined } | undefined;

  /**
   * readCredentials for a caller that asks before every call to the console (once a second):
   * the file is read again only when it changed (another inode, size or time; `enroll` writes a
   * new file and renames it into place), else one stat.
   */
  currentCredentials(): Credentials | undefined {
    let key = "none";
    try {
      const st = statSync(this.path("credentials.json"));
      key = `${st.ino}/${st.size}/${st.mtimeMs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new StateError(`cannot read ${this.path("credentials.json")}: ${(e as Error).message}`);
      }
    }
    if (this.credentialsSeen?.key === key) return this.credentialsSeen.value;
    const value = this.readCredentials();
    this.credentialsSeen = { key, value };
    return value;
  }

  writeCredentials(c: Credentials): void {
    this.write("credentials.json", c);
  }

  /** The raw last-good spec: the caller checks it against the spec schema it knows. */
  readLastGood(): { savedAt: string; spec: unknown } | undefined {
    return this.read("last-good.json", zLastGood) as { savedAt: string; spec: unknown } | undefined;
  }

  writeLastGood(spec: unknown, now = new Date()): void {
    this.write("last-good.json", { savedAt: now.toISOString(), spec });
  }

  readStatus(): LocalStatus | undefined {
    return this.read("status.json", zLocalStatus);
  }

  writeStatus(s: LocalStatus): void {
    this.write("status.json", s);
  }
}

import { createHash } from "node:crypto";
import { type ExecOptions, type ExecResult, SshError, type SshSession } from "../../ssh/types";
import { type Argv, asRoot, files, isPrivateDir, parseSha256 } from "./commands";
import { compactLog } from "./log-text";

/**
 * A logged-in gateway: runs commands as root (directly or through sudo) and writes files with a
 * checksum check. Errors name the operation in words and carry the command's own message, never
 * the command line (which may hold an enrollment token).
 */

/** Something found on the gateway that stops a step; its message is meant for the job page. */
export class HostProblem extends Error {
  override name = "HostProblem";
}

export class RemoteCommandError extends Error {
  override name = "RemoteCommandError";
  constructor(
    readonly what: string,
    readonly result: ExecResult,
  ) {
    super(`${what} failed: ${describeResult(result)}`);
  }
}

export function describeResult(r: ExecResult): string {
  if (r.timedOut) return `timed out after ${Math.round(r.durationMs / 1000)} s`;
  // the agent writes JSON log lines on stderr before its own error message
  const text = compactLog(r.stderr.trim() || r.stdout.trim())
    .split("\n")
    .slice(-8)
    .join("\n")
    .slice(0, 2000);
  const status = r.code === null ? `killed${r.signal ? ` by ${r.signal}` : ""}` : `exit status ${r.code}`;
  return text ? `${status}: ${text}` : status;
}

export class RemoteHost {
  /**
   * Logs in again after the connection dropped: a job that waited a minute for its agent can
   * still undo what it installed.
   */
  reconnect: (() => Promise<SshSession>) | null = null;

  constructor(
    public session: SshSession,
    /** not logged in as root: every privileged command goes through `sudo -n` */
    public viaSudo = false,
  ) {}

  async run(argv: Argv, opts?: ExecOptions): Promise<ExecResult> {
    try {
      return await this.session.exec(argv, opts);
    } catch (e) {
      if (!(e instanceof SshError && e.kind === "closed" && this.reconnect)) throw e;
      this.session.close();
      this.session = await this.reconnect();
      return this.session.exec(argv, opts);
    }
  }

  runAsRoot(argv: Argv, opts?: ExecOptions): Promise<ExecResult> {
    return this.run(asRoot(argv, this.viaSudo), opts);
  }

  /** Runs as root; throws RemoteCommandError named `what` unless it exits 0. */
  async must(what: string, argv: Argv, opts?: ExecOptions): Promise<string> {
    const r = await this.runAsRoot(argv, opts);
    if (r.code !== 0 || r.timedOut) throw new RemoteCommandError(what, r);
    return r.stdout;
  }

  /** Writes `data` to `path` as root and checks what landed by its sha256; then sets the mode. */
  async writeFile(path: string, data: Buffer | string, mode: string, what = `writing ${path}`): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.must(what, files.write(path), { stdin: bytes, timeoutMs: 120_000 });
    const expected = createHash("sha256").update(bytes).digest("hex");
    const actual = parseSha256(await this.must(`checking ${path}`, files.sha256(path)));
    if (actual !== expected) {
      throw new HostProblem(`${path} arrived damaged: sha256 ${actual ?? "unreadable"} instead of ${expected}`);
    }
    await this.must(`setting the mode of ${path}`, files.chmod(mode, path));
  }

  /**
   * Hands `use` the path of a file holding `secret`, so a command can read it from there instead
   * of taking it on its command line (which every user of the host can list). The secret travels
   * over stdin into a fresh 0700 directory, which is removed again however `use` ends.
   */
  async withSecretFile<T>(what: string, secret: string, use: (path: string) => Promise<T>): Promise<T> {
    const dir = (await this.must(`creating a private directory for ${what}`, files.privateDir)).trim();
    if (!isPrivateDir(dir)) throw new HostProblem(`mktemp printed "${dir.slice(0, 200)}" instead of a new directory`);
    let result: T;
    try {
      await this.must(`writing ${what}`, files.write(`${dir}/secret`), { stdin: `${secret}\n` });
      result = await use(`${dir}/secret`);
    } catch (e) {
      const left = await this.must(`removing ${what}`, files.rmTree(dir)).then(
        () => null,
        (removal: unknown) => removal,
      );
      if (left === null || !(e instanceof Error)) throw e;
      // the first failure is what the admin needs; the leftover copy is worth a line after it
      e.message += `; ${dir} with ${what} is left on the host: ${left instanceof Error ? left.message : String(left)}`;
      throw e;
    }
    await this.must(`removing ${what}`, files.rmTree(dir));
    return result;
  }

  close(): void {
    this.session.close();
  }
}

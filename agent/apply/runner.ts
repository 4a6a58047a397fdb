import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Every command the agent runs on its gateway goes through a CommandRunner: arguments are an
 * array (never a shell string), each run has a timeout, and output is captured. Tests swap in
 * FakeRunner; the lab wraps commands in `ip netns exec NS` with a prefix.
 */

export interface CommandResult {
  args: readonly string[];
  /** exit code; null when the process was killed (timeout) or could not start */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** written to the command's stdin, which is then closed */
  input?: string;
}

export interface CommandRunner {
  run(args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /**
   * Reads a file of the gateway's own kernel (/proc, /sys) without starting a process; absent
   * where files are not the gateway's (a runner that enters a namespace): readGatewayFile runs
   * `cat` there instead.
   */
  readFile?(path: string): Promise<string>;
}

/**
 * A /proc or /sys file as the gateway sees it: read directly when the agent runs on the gateway
 * (a read costs microseconds, a process a few milliseconds of CPU), else with `cat` through the
 * runner. null when it cannot be read.
 */
export async function readGatewayFile(runner: CommandRunner, path: string): Promise<string | null> {
  if (runner.readFile !== undefined) return runner.readFile(path).catch(() => null);
  const r = await runner.run(["cat", path], { timeoutMs: 3_000 });
  return ok(r) ? r.stdout : null;
}

export const ok = (r: CommandResult) => r.code === 0 && !r.timedOut;

/** A one-line account of a failed command for error reports. */
export function describeFailure(r: CommandResult): string {
  const what = r.args.join(" ");
  if (r.timedOut) return `${what}: timed out after ${Math.round(r.durationMs)} ms`;
  const text = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(0, 20).join("\n");
  return `${what}: exit ${r.code ?? "?"}${text ? `: ${text}` : ""}`;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

export interface ExecRunnerOptions {
  /** put before every command, e.g. ["ip", "netns", "exec", "gw"] */
  prefix?: readonly string[];
  defaultTimeoutMs?: number;
}

export function execRunner(options: ExecRunnerOptions = {}): CommandRunner {
  const prefix = options.prefix ?? [];
  const defaultTimeout = options.defaultTimeoutMs ?? 15_000;
  return {
    // with a prefix (another namespace), this process's /proc is not the gateway's. A /proc or /sys
    // read is answered by the kernel at once: read in place, not by four trips to the thread pool
    ...(prefix.length === 0 ? { readFile: async (path: string) => readFileSync(path, "utf8") } : {}),
    run(args, opts = {}) {
      const full = [...prefix, ...args];
      const [file, ...rest] = full;
      const started = performance.now();
      return new Promise<CommandResult>((resolve) => {
        if (file === undefined) {
          resolve({ args: full, code: null, stdout: "", stderr: "empty command", timedOut: false, durationMs: 0 });
          return;
        }
        const child = spawn(file, rest, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let size = 0;
        let timedOut = false;
        let settled = false;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_OUTPUT) into.push(chunk);
        };
        child.stdout.on("data", collect(out));
        child.stderr.on("data", collect(err));
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs ?? defaultTimeout);
        const finish = (code: number | null, extra = "") => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            args: full,
            code,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(err).toString("utf8") + extra,
            timedOut,
            durationMs: performance.now() - started,
          });
        };
        child.on("error", (e) => finish(null, e.message));
        child.on("close", (code) => finish(code));
        // a command that exits without reading stdin makes the write fail with EPIPE: not our error
        child.stdin.on("error", () => {});
        child.stdin.end(opts.input ?? "");
      });
    },
  };
}

/** Runs every command inside a network namespace. */
export function netnsRunner(namespace: string, options: Omit<ExecRunnerOptions, "prefix"> = {}): CommandRunner {
  return execRunner({ ...options, prefix: ["ip", "netns", "exec", namespace] });
}

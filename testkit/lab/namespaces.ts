import { type ChildProcess, spawn } from "node:child_process";
import { type CommandRunner, describeFailure, execRunner, ok, type RunOptions } from "../../agent/apply/runner";

/**
 * The bookkeeping every namespace lab shares: the namespaces it created (deleted by name, newest
 * first, even when building failed half-way), a command runner per namespace, and the processes
 * it started in them (stopped before their namespaces go).
 */

export interface LabProcess {
  child: ChildProcess;
  /** everything the process wrote to stdout so far */
  stdout(): string;
  /** its stderr, the last 2 MB at least once it grew beyond 4 MB */
  stderr(): string;
  /** resolves with the exit code when the process ends */
  exited: Promise<number | null>;
  /** SIGKILL unless told otherwise; nothing once it ended */
  kill(signal?: NodeJS.Signals): void;
}

export const host: CommandRunner = execRunner({ defaultTimeoutMs: 20_000 });

export async function must(runner: CommandRunner, args: readonly string[], opts?: RunOptions): Promise<string> {
  const r = await runner.run(args, opts);
  if (!ok(r)) throw new Error(describeFailure(r));
  return r.stdout;
}

/** Runs many ip commands in one namespace through `ip -n NS -batch -`. */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  await must(host, ["ip", "-n", ns, "-batch", "-"], { input: `${lines.join("\n")}\n` });
}

const STDERR_KEEP = 2_000_000;

export class Namespaces {
  private readonly created: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private readonly runners = new Map<string, CommandRunner>();

  /** Creates a namespace and remembers it for destroy(). */
  async add(name: string): Promise<void> {
    await must(host, ["ip", "netns", "add", name]);
    this.created.push(name);
  }

  runner(name: string): CommandRunner {
    let r = this.runners.get(name);
    if (r === undefined) {
      r = execRunner({ prefix: ["ip", "netns", "exec", name], defaultTimeoutMs: 30_000 });
      this.runners.set(name, r);
    }
    return r;
  }

  /** Starts a long-running process inside a namespace (or on the host with null); destroy() stops it. */
  spawn(name: string | null, args: readonly string[], env?: Record<string, string>): LabProcess {
    const full = name === null ? [...args] : ["ip", "netns", "exec", name, ...args];
    const [file, ...rest] = full as [string, ...string[]];
    const child = spawn(file, rest, {
      stdio: ["ignore", "pipe", "pipe"],
      env: env === undefined ? process.env : { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString("utf8");
      if (err.length > 2 * STDERR_KEEP) err = err.slice(-STDERR_KEEP);
    });
    const exited = new Promise<number | null>((resolve) => {
      child.on("close", (code) => resolve(code));
      child.on("error", () => resolve(null));
    });
    const proc: LabProcess = {
      child,
      stdout: () => out,
      stderr: () => err,
      exited,
      kill: (signal = "SIGKILL") => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    this.processes.add(proc);
    void exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /**
   * Stops every process (SIGTERM, SIGKILL after graceMs), then deletes the namespaces by name, one at
   * a time: deleting a namespace also removes the veth ends inside it.
   */
  async destroy(graceMs = 2000): Promise<void> {
    const running = [...this.processes];
    for (const proc of running) proc.kill("SIGTERM");
    await Promise.all(
      running.map((proc) =>
        Promise.race([proc.exited, new Promise((r) => setTimeout(r, graceMs)).then(() => proc.kill("SIGKILL"))]),
      ),
    );
    this.processes.clear();
    for (const name of this.created.splice(0).reverse()) await host.run(["ip", "netns", "delete", name]);
  }
}

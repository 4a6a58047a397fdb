import { writeFileSync } from "node:fs";
import type { Logger } from "../log";
import type { Exit, ProcessSpawner, SpawnedProcess } from "../health/spawner";

/**
 * One daemon the agent keeps running (keepalived, conntrackd): started in the foreground as the
 * agent's child, restarted with a growing delay when it dies, stopped with SIGTERM. Its last
 * lines of output are kept for the error the status report shows.
 */

export type ChildState = "running" | "stopped" | "failed";

const RESTART_MS = [500, 1_000, 2_000, 5_000, 10_000];
/** a child that ran this long before dying starts again at the shortest delay */
const STABLE_MS = 30_000;
const TAIL_CHARS = 2_000;

export interface ChildDeps {
  name: string;
  spawner: ProcessSpawner;
  log: Logger;
  /** before every start (remove a stale instance, re-create a fifo ...) */
  beforeStart?: () => Promise<void>;
  /** after an exit the agent did not ask for, before the restart is scheduled */
  onDied?: (exit: Exit) => Promise<void>;
  onStateChange?: () => void;
  /** where the running child's pid is kept, so a child left by a killed agent can be found */
  pidFile?: string;
}

export class SupervisedChild {
  state: ChildState = "stopped";
  error = "";
  private proc: SpawnedProcess | null = null;
  private args: readonly string[] = [];
  private wanted = false;
  private failures = 0;
  private startedAt = 0;
  private tail = "";
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ChildDeps) {}

  /** Starts it with these arguments (a running child with other arguments is restarted). */
  async ensure(args: readonly string[]): Promise<void> {
    const same = args.join("\0") === this.args.join("\0");
    this.args = args;
    this.wanted = true;
    if (this.proc !== null && same) return;
    if (this.proc !== null) await this.stop(true);
    this.wanted = true;
    await this.start();
  }

  private async start(): Promise<void> {
    if (!this.wanted || this.proc !== null) return;
    await this.deps.beforeStart?.();
    if (!this.wanted || this.proc !== null) return;
    this.tail = "";
    this.startedAt = Date.now();
    const keep = (chunk: string) => {
      this.tail = (this.tail + chunk).slice(-TAIL_CHARS);
    };
    const proc = this.deps.spawner.spawn(this.args, { stdout: keep, stderr: keep });
    this.proc = proc;
    if (this.deps.pidFile !== undefined && proc.pid !== undefined) {
      try {
        writeFileSync(this.deps.pidFile, `${proc.pid}\n`);
      } catch (e) {
        this.deps.log.warn({ err: (e as Error).message, file: this.deps.pidFile }, "cannot write the pid file");
      }
    }
    this.setState("running", "");
    void proc.exited.then((exit) => this.exited(proc, exit));
  }

  private async exited(proc: SpawnedProcess, exit: Exit): Promise<void> {
    if (this.proc !== proc) return;
    this.proc = null;
    if (!this.wanted) {
      this.setState("stopped", "");
      return;
    }
    const how = exit.error ?? (exit.signal !== null ? `killed by ${exit.signal}` : `exit ${exit.code}`);
    const last = this.tail.trim().split("\n").slice(-3).join(" | ");
    this.setState("failed", `${this.deps.name} ${how}${last ? `: ${last}` : ""}`.slice(0, 900));
    if (Date.now() - this.startedAt > STABLE_MS) this.failures = 0;
    const wait = RESTART_MS[Math.min(this.failures, RESTART_MS.length - 1)] as number;
    this.failures++;
    this.deps.log.error({ daemon: this.deps.name, error: this.error, restartInMs: wait }, "a daemon died");
    await this.deps.onDied?.(exit).catch((e: unknown) => this.deps.log.warn({ err: e }, "cleanup after exit failed"));
    if (!this.wanted) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.start();
    }, wait);
    this.timer.unref?.();
  }

  /** Sends a signal to the running child; false when there is none (or its pid is not known). */
  signal(sig: NodeJS.Signals): boolean {
    const pid = this.proc?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops it and waits until it is gone. */
  async stop(keepWanted = false): Promise<void> {
    this.wanted = keepWanted;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const proc = this.proc;
    if (proc === null) {
      if (!keepWanted) this.setState("stopped", "");
      return;
    }
    this.proc = null;
    proc.stop();
    const killer = setTimeout(() => proc.stop(), 5_000);
    await proc.exited;
    clearTimeout(killer);
    this.setState("stopped", "");
  }

  private setState(state: ChildState, error: string): void {
    if (this.state === state && this.error === error) return;
    this.state = state;
    this.error = error;
    this.deps.onStateChange?.();
  }
}

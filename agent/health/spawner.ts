import { spawn } from "node:child_process";

/**
 * Long-running commands (the probers) and commands whose output is only counted, next to the
 * CommandRunner of agent/apply: arguments are an array, never a shell string, and the same
 * prefix (`ip netns exec NS`) puts them in the gateway's namespace in labs.
 */

export interface Exit {
  code: number | null;
  signal: string | null;
  /** set when the command could not be started at all */
  error: string | null;
}

export interface SpawnedProcess {
  /** the process id, when it started (also the command's own with an `ip netns exec` prefix, which execs it) */
  pid?: number;
  /** SIGTERM now; the `exited` promise tells when it is gone */
  stop(): void;
  /** writes to the command's stdin (only when spawned with `stdin: true`); false: it is gone */
  write?(text: string): boolean;
  exited: Promise<Exit>;
}

export interface SpawnHandlers {
  stdout?: (chunk: string) => void;
  stderr?: (chunk: string) => void;
  /** send stdout to /dev/null instead of reading it (commands whose output only costs time) */
  discardStdout?: boolean;
  /** keep a pipe to the command's stdin open for `write` (commands that read requests) */
  stdin?: boolean;
}

export interface ProcessSpawner {
  spawn(args: readonly string[], handlers: SpawnHandlers): SpawnedProcess;
}

export function execSpawner(options: { prefix?: readonly string[] } = {}): ProcessSpawner {
  const prefix = options.prefix ?? [];
  return {
    spawn(args, handlers) {
      const [file, ...rest] = [...prefix, ...args];
      if (file === undefined) {
        return { stop() {}, exited: Promise.resolve({ code: null, signal: null, error: "empty command" }) };
      }
      // fping in loop mode runs until stopped; if the agent dies without stopping it, its next
      // write to the closed pipe ends it (SIGPIPE), so it never outlives the agent for long
      const child = spawn(file, rest, {
        stdio: [handlers.stdin ? "pipe" : "ignore", handlers.discardStdout ? "ignore" : "pipe", "pipe"],
        env: { ...process.env, LC_ALL: "C" },
      });
      child.stdout?.setEncoding("utf8");
      child.stderr?.setEncoding("utf8");
      if (handlers.stdout) child.stdout?.on("data", handlers.stdout);
      if (handlers.stderr) child.stderr?.on("data", handlers.stderr);
      else child.stderr?.resume();
      const exited = new Promise<Exit>((resolve) => {
        let startError: string | null = null;
        child.once("error", (e) => {
          startError = e.message;
          // a process that never started emits no "close"
          if (child.pid === undefined) resolve({ code: null, signal: null, error: startError });
        });
        child.once("close", (code, signal) => resolve({ code, signal, error: startError }));
      });
      // a write after the command died must not take the agent down with EPIPE
      child.stdin?.on("error", () => {});
      return {
        ...(child.pid === undefined ? {} : { pid: child.pid }),
        stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        },
        write(text: string) {
          const stdin = child.stdin;
          if (stdin === null || stdin.destroyed || child.exitCode !== null || child.signalCode !== null) return false;
          stdin.write(text);
          return true;
        },
        exited,
      };
    },
  };
}

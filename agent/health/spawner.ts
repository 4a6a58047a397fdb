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
  /** SIGTERM now; the `exited` promise tells when it is gone */
  stop(): void;
  exited: Promise<Exit>;
}

export interface SpawnHandlers {
  stdout?: (chunk: string) => void;
  stderr?: (chunk: string) => void;
  /** send stdout to /dev/null instead of reading it (commands whose output only costs time) */
  discardStdout?: boolean;
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
        stdio: ["ignore", handlers.discardStdout ? "ignore" : "pipe", "pipe"],
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
      return {
        stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        },
        exited,
      };
    },
  };
}

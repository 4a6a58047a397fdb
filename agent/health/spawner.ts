import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";

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
  /**
   * Let the command write stdout to an unlinked temporary file and hand it to `stdout` in large
   * chunks once the command has ended (before `exited` settles), for commands that write a long
   * output in tiny pieces: nft writes every word of a listing with its own write(2), and reading
   * those from a pipe wakes the agent for a few words at a time. Falls back to a pipe when no
   * temporary file can be made.
   */
  stdoutViaFile?: boolean;
  /** the command's stdout goes to this open file (a long-lived command whose output the caller reads from it) */
  stdoutFd?: number;
}

const FILE_CHUNK_BYTES = 64 * 1024;

/**
 * An unlinked file in `dir` (the temporary directory by default), open for reading and writing
 * (every write at its end with `append`); null when none can be made.
 */
export function anonymousFile({
  dir = tmpdir(),
  append = false,
}: {
  dir?: string;
  append?: boolean;
} = {}): number | null {
  const path = join(dir, `gatehouse-out-${randomUUID()}`);
  let fd: number;
  try {
    fd = openSync(path, append ? "ax+" : "wx+", 0o600);
  } catch {
    return null;
  }
  try {
    unlinkSync(path);
    return fd;
  } catch {
    closeSync(fd);
    return null;
  }
}

/**
 * Hands the file's content from its start to `deliver` in chunks of whole characters, leaving it
 * open. The reads are synchronous (a file just written is in the page cache, a /proc file is
 * written by the kernel as it is read: microseconds to a few milliseconds each, and no thread
 * pool for the agent to keep); the loop yields between chunks so that probes and reports go on.
 * `stopped` ends it early.
 */
export async function readChunks(
  fd: number,
  deliver: (chunk: string) => void,
  { chunkBytes = FILE_CHUNK_BYTES, stopped = () => false }: { chunkBytes?: number; stopped?: () => boolean } = {},
): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const buffer = Buffer.allocUnsafe(chunkBytes);
  for (let position = 0, end = false; !end && !stopped(); ) {
    // a /proc file answers a page per read whatever was asked: fill the chunk before handing it on
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, position);
      if (bytesRead === 0) {
        end = true;
        break;
      }
      filled += bytesRead;
      position += bytesRead;
    }
    const text = decoder.write(buffer.subarray(0, filled));
    if (text !== "") deliver(text);
    if (!end) await new Promise((resolve) => setImmediate(resolve));
  }
  const rest = decoder.end();
  if (rest !== "" && !stopped()) deliver(rest);
}

/** readChunks, then closes the file. */
async function deliverFile(
  fd: number,
  deliver: ((chunk: string) => void) | undefined,
  options?: Parameters<typeof readChunks>[2],
): Promise<void> {
  try {
    if (deliver !== undefined) await readChunks(fd, deliver, options);
  } finally {
    closeSync(fd);
  }
}

/** a /proc listing's text comes in chunks this big: a few thousand conntrack entries, a few ms of the kernel's time each */
const PROC_CHUNK_BYTES = 256 * 1024;

/**
 * A file of the gateway's kernel streamed without a process, as a SpawnedProcess (exit 0 at its
 * end, 1 with the reason when it cannot be opened or read), so that a reader takes either.
 */
function streamedFile(path: string, handlers: Pick<SpawnHandlers, "stdout">): SpawnedProcess {
  let stopped = false;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return { stop() {}, exited: Promise.resolve({ code: 1, signal: null, error: errorText(e) }) };
  }
  // as from a process, output comes after the caller holds the handle (its handlers may stop it)
  const exited = new Promise((resolve) => setImmediate(resolve))
    .then(() => deliverFile(fd, handlers.stdout, { chunkBytes: PROC_CHUNK_BYTES, stopped: () => stopped }))
    .then(
      (): Exit => ({ code: stopped ? null : 0, signal: stopped ? "SIGTERM" : null, error: null }),
      (e: unknown): Exit => ({ code: 1, signal: null, error: errorText(e) }),
    );
  return {
    stop() {
      stopped = true;
    },
    exited,
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface ProcessSpawner {
  spawn(args: readonly string[], handlers: SpawnHandlers): SpawnedProcess;
  /**
   * Streams a /proc file of the gateway's kernel without starting a process; absent where files
   * are not the gateway's (a prefix that enters a namespace): streamGatewayFile runs `cat` there.
   */
  streamFile?(path: string, handlers: Pick<SpawnHandlers, "stdout">): SpawnedProcess;
}

/**
 * A /proc file as the gateway sees it, streamed: read in place when the agent runs on the gateway
 * (no process: a spawn costs the agent a few milliseconds of CPU), else by `cat` in its namespace.
 */
export function streamGatewayFile(
  spawner: ProcessSpawner,
  path: string,
  handlers: Pick<SpawnHandlers, "stdout">,
): SpawnedProcess {
  return spawner.streamFile?.(path, handlers) ?? spawner.spawn(["cat", path], handlers);
}

export function execSpawner(options: { prefix?: readonly string[] } = {}): ProcessSpawner {
  const prefix = options.prefix ?? [];
  return {
    // with a prefix (another namespace), this process's /proc is not the gateway's
    ...(prefix.length === 0 ? { streamFile: streamedFile } : {}),
    spawn(args, handlers) {
      const [file, ...rest] = [...prefix, ...args];
      if (file === undefined) {
        return { stop() {}, exited: Promise.resolve({ code: null, signal: null, error: "empty command" }) };
      }
      // fping in loop mode runs until stopped; if the agent dies without stopping it, its next
      // write to the closed pipe ends it (SIGPIPE), so it never outlives the agent for long
      let outFile =
        handlers.stdoutViaFile && !handlers.discardStdout && handlers.stdoutFd === undefined ? anonymousFile() : null;
      /** the output file, to the one that reads or closes it: null after that */
      const takeFile = (): number | null => {
        const fd = outFile;
        outFile = null;
        return fd;
      };
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(file, rest, {
          stdio: [
            handlers.stdin ? "pipe" : "ignore",
            handlers.stdoutFd ?? outFile ?? (handlers.discardStdout ? "ignore" : "pipe"),
            "pipe",
          ],
          env: { ...process.env, LC_ALL: "C" },
        });
      } catch (e) {
        const fd = takeFile();
        if (fd !== null) closeSync(fd);
        throw e;
      }
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
          if (child.pid === undefined) {
            const fd = takeFile();
            if (fd !== null) closeSync(fd);
            resolve({ code: null, signal: null, error: startError });
          }
        });
        child.once("close", (code, signal) => {
          const fd = takeFile();
          if (fd === null) resolve({ code, signal, error: startError });
          else
            deliverFile(fd, handlers.stdout).then(
              () => resolve({ code, signal, error: startError }),
              (e: unknown) =>
                resolve({
                  code,
                  signal,
                  error: startError ?? `reading its output: ${e instanceof Error ? e.message : e}`,
                }),
            );
        });
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

import type { Exit, ProcessSpawner, SpawnHandlers } from "../../agent/health/spawner";

/** A ProcessSpawner whose processes run until the test ends them (`exit`) or the code stops them. */

export interface FakeProcess {
  args: readonly string[];
  handlers: SpawnHandlers;
  stopped: boolean;
  /** what was written to its stdin */
  written: string[];
  exit(e: Partial<Exit>): void;
}

export function fakeSpawner() {
  const procs: FakeProcess[] = [];
  const spawner: ProcessSpawner = {
    spawn(args, handlers) {
      let resolve: (e: Exit) => void = () => {};
      const exited = new Promise<Exit>((r) => {
        resolve = r;
      });
      let ended = false;
      const end = (e: Exit) => {
        ended = true;
        resolve(e);
      };
      const p: FakeProcess = {
        args,
        handlers,
        stopped: false,
        written: [],
        exit: (e) => end({ code: 1, signal: null, error: null, ...e }),
      };
      procs.push(p);
      return {
        stop() {
          p.stopped = true;
          end({ code: null, signal: "SIGTERM", error: null });
        },
        write(text: string) {
          if (ended) return false;
          p.written.push(text);
          return true;
        },
        exited,
      };
    },
  };
  return { spawner, procs };
}

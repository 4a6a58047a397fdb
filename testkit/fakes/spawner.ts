import type { Exit, ProcessSpawner, SpawnHandlers } from "../../agent/health/spawner";

/** A ProcessSpawner whose processes run until the test ends them (`exit`) or the code stops them. */

export interface FakeProcess {
  args: readonly string[];
  handlers: SpawnHandlers;
  stopped: boolean;
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
      const p: FakeProcess = {
        args,
        handlers,
        stopped: false,
        exit: (e) => resolve({ code: 1, signal: null, error: null, ...e }),
      };
      procs.push(p);
      return {
        stop() {
          p.stopped = true;
          resolve({ code: null, signal: "SIGTERM", error: null });
        },
        exited,
      };
    },
  };
  return { spawner, procs };
}

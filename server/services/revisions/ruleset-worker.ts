import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { env } from "../../env";
import { logger } from "../../log";
import { type DiffHunk, type DiffJob, type RenderedText, type RenderJob, runRulesetJob } from "./ruleset-render";

/**
 * Runs ruleset renders and diffs in one worker thread, one at a time, so that the seconds a large
 * ruleset takes are not seconds in which the console answers nobody. The production build bundles
 * the worker into dist/ruleset-worker.mjs (scripts/build-workers.ts); elsewhere (dev server,
 * tests) the TypeScript source runs through tsx. When no worker can run, the job runs in this
 * thread after yielding once, as it did before.
 */

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const SOURCE = "server/services/revisions/ruleset-render.worker.ts";
const BUNDLE = "dist/ruleset-worker.mjs";

let worker: Worker | null = null;
let broken = false;
let nextId = 1;
const pending = new Map<number, Pending>();

function startWorker(): Worker {
  const root = process.cwd();
  const bundle = join(root, BUNDLE);
  const w =
    env.NODE_ENV === "production" && existsSync(bundle)
      ? new Worker(bundle)
      : new Worker(
          `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(join(root, SOURCE))}, ${JSON.stringify(`file://${root}/`)}))`,
          { eval: true },
        );
  // an idle worker must not keep the process alive
  w.unref();
  w.on("message", (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error ?? "the ruleset worker failed"));
  });
  const fail = (e: Error) => {
    if (worker === w) worker = null;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(e);
    }
  };
  w.on("error", (e) => {
    logger.warn({ err: e }, "the ruleset worker failed; rendering in the main thread from now on");
    broken = true;
    fail(e);
  });
  w.on("exit", (code) => fail(new Error(`the ruleset worker exited with code ${code}`)));
  return w;
}

async function inThisThread<T>(job: RenderJob | DiffJob): Promise<T> {
  await new Promise((r) => setImmediate(r));
  return runRulesetJob(job) as T;
}

async function run<T>(job: RenderJob | DiffJob): Promise<T> {
  if (broken) return inThisThread<T>(job);
  try {
    worker ??= startWorker();
  } catch (e) {
    logger.warn({ err: e }, "the ruleset worker cannot start; rendering in the main thread");
    broken = true;
    return inThisThread<T>(job);
  }
  const w = worker;
  const id = nextId++;
  try {
    return await new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ id, job });
    });
  } catch (e) {
    // the worker died under this job: do it here rather than fail the request
    if (broken) return inThisThread<T>(job);
    throw e;
  } finally {
    if (pending.size === 0) w.unref();
  }
}

export const renderInWorker = (job: RenderJob): Promise<RenderedText> => run<RenderedText>(job);
export const diffInWorker = (job: DiffJob): Promise<DiffHunk[] | null> => run<DiffHunk[] | null>(job);

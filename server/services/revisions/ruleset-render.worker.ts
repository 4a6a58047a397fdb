import { parentPort } from "node:worker_threads";
import { type RulesetJob, runRulesetJob } from "./ruleset-render";

/** The worker thread's side of ./ruleset-worker.ts: one job at a time, in the order they come. */
parentPort?.on("message", (message: { id: number; job: RulesetJob }) => {
  try {
    parentPort?.postMessage({ id: message.id, ok: true, result: runRulesetJob(message.job) });
  } catch (e) {
    parentPort?.postMessage({ id: message.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});

import { AppError } from "../../errors";
import { logger } from "../../log";
import { SshError } from "../../ssh/types";
import type { JobRecorder } from "./jobs";
import { BundleError } from "./bundle";
import { HostProblem, RemoteCommandError } from "./remote";
import { UnitTemplateError } from "./service-files";

/**
 * Running a job as named steps, and undoing what the finished ones did when a later one fails.
 */

export class StepFailure extends Error {
  override name = "StepFailure";
  constructor(
    readonly stepKey: string,
    readonly stepLabel: string,
    message: string,
  ) {
    super(message);
  }
}

/** A message for the job page: ours verbatim, anything unexpected logged and summarised. */
export function messageOf(e: unknown): string {
  const expected = [StepFailure, SshError, RemoteCommandError, HostProblem, AppError, BundleError, UnitTemplateError];
  if (expected.some((type) => e instanceof type)) return (e as Error).message;
  logger.error({ err: e }, "ssh job step failed unexpectedly");
  // admins read this on the job page; the message of a plain error is usually the useful part
  return e instanceof Error ? e.message : "an unexpected error; the console log has the details";
}

/** Runs one step: marks it running, then done with `summary`, or failed with the reason (and rethrows). */
export async function runStep<T>(
  job: JobRecorder,
  key: string,
  fn: () => Promise<T>,
  summary?: (value: T) => string,
): Promise<T> {
  const label = job.steps.find((s) => s.key === key)?.label ?? key;
  await job.begin(key);
  try {
    const value = await fn();
    await job.end(key, "done", summary ? summary(value) : undefined);
    return value;
  } catch (e) {
    const message = messageOf(e);
    await job.end(key, "failed", message);
    throw new StepFailure(key, label, message);
  }
}

interface UndoEntry {
  stepKey: string;
  label: string;
  run: () => Promise<void>;
}

export interface UndoReport {
  ok: boolean;
  lines: string[];
}

/** What the finished steps installed, undone last-first; a failed undo is reported and the rest still run. */
export class UndoStack {
  private readonly entries: UndoEntry[] = [];

  push(stepKey: string, label: string, run: () => Promise<void>): void {
    this.entries.push({ stepKey, label, run });
  }

  get size(): number {
    return this.entries.length;
  }

  async unwind(job: JobRecorder | null): Promise<UndoReport> {
    const lines: string[] = [];
    const failedSteps = new Set<string>();
    const touchedSteps = new Set<string>();
    for (const entry of this.entries.splice(0).reverse()) {
      touchedSteps.add(entry.stepKey);
      try {
        await entry.run();
        lines.push(`${entry.label}: done`);
      } catch (e) {
        failedSteps.add(entry.stepKey);
        lines.push(`${entry.label}: FAILED (${messageOf(e)})`);
      }
    }
    if (job) {
      for (const key of touchedSteps) {
        if (!failedSteps.has(key) && job.stateOf(key) === "done") await job.end(key, "undone");
      }
    }
    return { ok: failedSteps.size === 0, lines };
  }
}

import { z } from "zod";
import type { Db } from "../../db";
import { conflict, notFound } from "../../errors";
import type { Actor } from "../audit/record";

/**
 * SSH jobs (enrollment, upgrades) run in the console process and keep their progress in the
 * database, step by step, so any page (and any console replica) can show it by polling. A running
 * job touches its row every few seconds; a "running" row nobody touched for a while belongs to a
 * console that stopped mid-job and is shown as interrupted.
 */

export type JobKind = "enroll" | "upgrade" | "upgrade_cluster";
export type JobState = "running" | "succeeded" | "failed";
export type StepState = "pending" | "running" | "done" | "failed" | "skipped" | "undone";

export interface JobStep {
  key: string;
  label: string;
  state: StepState;
  detail: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const zSteps = z.array(
  z.object({
    key: z.string(),
    label: z.string(),
    state: z.enum(["pending", "running", "done", "failed", "skipped", "undone"]),
    detail: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  }),
);

export const HEARTBEAT_MS = 5_000;
export const INTERRUPTED_AFTER_MS = 30_000;
const MAX_DETAIL = 8_000;

const JOB_SELECT = {
  id: true,
  clusterId: true,
  gatewayId: true,
  kind: true,
  title: true,
  state: true,
  steps: true,
  error: true,
  actorName: true,
  createdAt: true,
  updatedAt: true,
  finishedAt: true,
} as const;

type JobRow = {
  id: string;
  clusterId: string;
  gatewayId: string | null;
  kind: string;
  title: string;
  state: string;
  steps: string;
  error: string;
  actorName: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
};

function parseSteps(text: string): JobStep[] {
  try {
    const parsed = zSteps.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export function presentJob(row: JobRow, now = new Date()) {
  const stale = row.state === "running" && now.getTime() - row.updatedAt.getTime() > INTERRUPTED_AFTER_MS;
  return {
    id: row.id,
    clusterId: row.clusterId,
    gatewayId: row.gatewayId,
    kind: row.kind as JobKind,
    title: row.title,
    state: stale ? ("interrupted" as const) : (row.state as JobState),
    steps: parseSteps(row.steps),
    error: stale ? "The console stopped while this job ran; check the gateway before trying again" : row.error,
    actorName: row.actorName,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}
export type JobView = ReturnType<typeof presentJob>;

export async function getJob(db: Db, id: string) {
  const row = await db.sshJob.findUnique({ where: { id }, select: JOB_SELECT });
  if (!row) throw notFound("The job");
  return presentJob(row);
}

export async function listJobs(db: Db, clusterId: string, gatewayId?: string, limit = 10) {
  const rows = await db.sshJob.findMany({
    where: { clusterId, ...(gatewayId ? { gatewayId } : {}) },
    orderBy: { createdAt: "desc" },
    take: limit,
    select: JOB_SELECT,
  });
  return rows.map((r) => presentJob(r));
}

/** Refuses a second job on the same gateway (or a second cluster upgrade) while one runs. */
export async function assertNoRunningJob(
  db: Db,
  where: { gatewayIds?: string[]; clusterUpgrade?: string; enrollName?: { clusterId: string; title: string } },
): Promise<void> {
  const fresh = new Date(Date.now() - INTERRUPTED_AFTER_MS);
  const or = [
    ...(where.gatewayIds?.length ? [{ gatewayId: { in: where.gatewayIds } }] : []),
    ...(where.clusterUpgrade ? [{ clusterId: where.clusterUpgrade, kind: "upgrade_cluster" }] : []),
    ...(where.enrollName
      ? [{ clusterId: where.enrollName.clusterId, kind: "enroll", title: where.enrollName.title }]
      : []),
  ];
  if (or.length === 0) return;
  const running = await db.sshJob.findFirst({
    where: { state: "running", updatedAt: { gt: fresh }, OR: or },
    select: { title: true },
  });
  if (running) throw conflict(`"${running.title}" is still running; wait for it to finish`);
}

/** Records one job's progress. Writes are queued so the row always holds the latest state. */
export class JobRecorder {
  private queue: Promise<unknown> = Promise.resolve();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private gatewayId: string | null;

  private constructor(
    private readonly db: Db,
    readonly id: string,
    readonly steps: JobStep[],
    gatewayId: string | null,
  ) {
    this.gatewayId = gatewayId;
    this.heartbeat = setInterval(() => void this.persist(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  static async create(
    db: Db,
    input: {
      clusterId: string;
      gatewayId: string | null;
      kind: JobKind;
      title: string;
      steps: Array<{ key: string; label: string }>;
      actor: Actor;
    },
  ): Promise<JobRecorder> {
    const steps: JobStep[] = input.steps.map((s) => ({
      ...s,
      state: "pending",
      detail: "",
      startedAt: null,
      finishedAt: null,
    }));
    const row = await db.sshJob.create({
      data: {
        clusterId: input.clusterId,
        gatewayId: input.gatewayId,
        kind: input.kind,
        title: input.title,
        steps: JSON.stringify(steps),
        actorId: input.actor.id,
        actorName: input.actor.name,
      },
      select: { id: true },
    });
    return new JobRecorder(db, row.id, steps, input.gatewayId);
  }

  private step(key: string): JobStep {
    const s = this.steps.find((x) => x.key === key);
    if (!s) throw new Error(`job ${this.id} has no step ${key}`);
    return s;
  }

  private persist(extra: { state?: JobState; error?: string; finishedAt?: Date } = {}): Promise<void> {
    const data = { steps: JSON.stringify(this.steps), gatewayId: this.gatewayId, ...extra };
    const next = this.queue.then(() => this.db.sshJob.update({ where: { id: this.id }, data, select: { id: true } }));
    // a failed write (database briefly busy) must not stop the job; the next write carries the state
    this.queue = next.catch(() => {});
    return this.queue as Promise<void>;
  }

  setGateway(gatewayId: string): Promise<void> {
    this.gatewayId = gatewayId;
    return this.persist();
  }

  addStep(key: string, label: string): void {
    this.steps.push({ key, label, state: "pending", detail: "", startedAt: null, finishedAt: null });
  }

  stateOf(key: string): StepState {
    return this.step(key).state;
  }

  begin(key: string, detail = ""): Promise<void> {
    const s = this.step(key);
    s.state = "running";
    s.detail = detail.slice(0, MAX_DETAIL);
    s.startedAt = new Date().toISOString();
    return this.persist();
  }

  note(key: string, detail: string): Promise<void> {
    this.step(key).detail = detail.slice(0, MAX_DETAIL);
    return this.persist();
  }

  end(key: string, state: Exclude<StepState, "pending" | "running">, detail?: string): Promise<void> {
    const s = this.step(key);
    s.state = state;
    if (detail !== undefined) s.detail = detail.slice(0, MAX_DETAIL);
    s.finishedAt = new Date().toISOString();
    return this.persist();
  }

  /** Marks what never ran as skipped, and closes the job. */
  async finish(state: JobState, error = ""): Promise<void> {
    for (const s of this.steps) {
      if (s.state === "pending") s.state = "skipped";
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.persist({ state, error: error.slice(0, MAX_DETAIL), finishedAt: new Date() });
  }
}

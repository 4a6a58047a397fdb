import type { Db } from "../../db";
import { isUniqueViolation } from "../../errors";
import {
  bucketStart,
  EMPTY_ROLLUP,
  foldSample,
  type Resolution,
  RESOLUTIONS,
  type Rollup,
  type RollupRow,
} from "../../../core/health/rollup";
import type { SampleData } from "../../../core/health/series";

/**
 * The stored side of the health rollups: each sample is folded into its minute and hour rows as it
 * arrives, and a gateway's rows past their retention are deleted in bounded batches whenever one
 * of its buckets opens (once a minute, once an hour), so no job has to run and no delete is large.
 *
 * A fold reads the row and writes it back only if nobody folded in between (the sample count is
 * the version); on a race it reads again. Rollups are derived from the samples: a fold that keeps
 * losing its race is given up after a few tries rather than failing the agent's report.
 */

const FOLD_TRIES = 16;
/** rows deleted per statement when a bucket opens: bounded work per report */
export const PRUNE_BATCH = 500;

const ROLLUP_FIELDS = {
  n: true,
  up: true,
  degraded: true,
  down: true,
  lossN: true,
  lossSum: true,
  lossMax: true,
  rttN: true,
  rttSum: true,
  rttMin: true,
  rttMax: true,
  failedOver: true,
  connN: true,
  connSum: true,
  connMax: true,
} as const;

async function foldOne(
  db: Db,
  key: { clusterId: string; gatewayId: string; ispId: string; resolution: Resolution; at: Date },
  sample: SampleData[string],
): Promise<"created" | "updated" | "lost"> {
  const where = {
    gatewayId_ispId_resolution_at: {
      gatewayId: key.gatewayId,
      ispId: key.ispId,
      resolution: key.resolution,
      at: key.at,
    },
  };
  for (let i = 0; i < FOLD_TRIES; i++) {
    const row = await db.healthRollup.findUnique({ where, select: { id: true, ...ROLLUP_FIELDS } });
    if (row === null) {
      try {
        await db.healthRollup.create({ data: { ...key, ...foldSample(EMPTY_ROLLUP, sample) }, select: { id: true } });
        return "created";
      } catch (e) {
        if (isUniqueViolation(e)) continue; // another report opened the bucket first: fold into it
        throw e;
      }
    }
    const { id, ...old } = row;
    const next: Rollup = foldSample(old, sample);
    const done = await db.healthRollup.updateMany({ where: { id, n: old.n }, data: next });
    if (done.count === 1) return "updated";
  }
  return "lost";
}

/** Deletes up to PRUNE_BATCH of the gateway's rows of a resolution older than its retention. */
export async function pruneRollups(db: Db, gatewayId: string, resolution: Resolution, now: Date): Promise<number> {
  const before = new Date(now.getTime() - RESOLUTIONS[resolution].keepMs);
  const old = await db.healthRollup.findMany({
    where: { gatewayId, resolution, at: { lt: before } },
    select: { id: true },
    take: PRUNE_BATCH,
  });
  if (old.length === 0) return 0;
  const done = await db.healthRollup.deleteMany({ where: { id: { in: old.map((r) => r.id) } } });
  return done.count;
}

/** Folds one gateway's sample into its minute and hour rows; answers how many folds lost their race. */
export async function foldIntoRollups(
  db: Db,
  gw: { id: string; clusterId: string },
  data: SampleData,
  now: Date,
): Promise<number> {
  let lost = 0;
  for (const resolution of Object.keys(RESOLUTIONS) as Resolution[]) {
    const at = new Date(bucketStart(now.getTime(), RESOLUTIONS[resolution].bucketMs));
    let opened = false;
    for (const [ispId, sample] of Object.entries(data)) {
      const outcome = await foldOne(db, { clusterId: gw.clusterId, gatewayId: gw.id, ispId, resolution, at }, sample);
      if (outcome === "created") opened = true;
      if (outcome === "lost") lost++;
    }
    if (opened) await pruneRollups(db, gw.id, resolution, now);
  }
  return lost;
}

/** A cluster's rows of a resolution since `from`, oldest first. */
export async function readRollups(
  db: Db,
  clusterId: string,
  resolution: Resolution,
  from: Date,
  limit = 200_000,
): Promise<RollupRow[]> {
  const rows = await db.healthRollup.findMany({
    where: { clusterId, resolution, at: { gte: from } },
    orderBy: { at: "asc" },
    take: limit,
    select: { gatewayId: true, ispId: true, at: true, ...ROLLUP_FIELDS },
  });
  return rows.map((r) => ({ ...r, at: r.at.getTime() }));
}

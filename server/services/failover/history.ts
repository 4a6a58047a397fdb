import { z } from "zod";
import { zLinkState } from "../../../core/protocol/health-report";
import type { Db } from "../../db";
import { downsample, type Sample, type SampleData } from "../../../core/health/series";
import { type HistoryRange, RANGE_PLANS, type RollupSeries, rollupSeries } from "../../../core/health/rollup";
import { readRollups } from "./rollups";

/**
 * Health history for the charts. Samples live in a table (one row per gateway report, about one
 * a second, pruned after 20 minutes by the reports themselves) rather than in each console
 * process's memory: with several console replicas behind a load balancer every replica sees
 * every gateway's history, and a restart keeps the last minutes. Longer ranges read the minute and
 * hour rollups (rollups.ts) instead.
 */

export const HISTORY_MS = RANGE_PLANS["20m"].spanMs;
/** the history is sent in 3-second buckets: 400 points a gateway for 20 minutes */
export const HISTORY_BUCKET_MS = RANGE_PLANS["20m"].bucketMs;
const MAX_ROWS = 200_000;

const zSampleData = z.record(
  z.string(),
  z.object({
    s: zLinkState,
    l: z.number().nullable(),
    r: z.number().nullable(),
    f: z.string().nullable(),
    c: z.number().nullable().optional(),
  }),
);

function parseData(text: string): SampleData {
  try {
    const parsed = zSampleData.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

const toSample = (r: { id: number; gatewayId: string; at: Date; data: string }): Sample => ({
  id: r.id,
  gatewayId: r.gatewayId,
  at: r.at.getTime(),
  isps: parseData(r.data),
});

export interface History {
  samples: Sample[];
  /** the newest sample id included: live updates continue after it */
  cursor: number;
  from: number;
}

export async function healthHistory(db: Db, clusterId: string, now = new Date()): Promise<History> {
  const from = now.getTime() - HISTORY_MS;
  const rows = await db.healthSample.findMany({
    where: { clusterId, at: { gte: new Date(from) } },
    orderBy: { id: "asc" },
    take: MAX_ROWS,
    select: { id: true, gatewayId: true, at: true, data: true },
  });
  const samples = rows.map(toSample);
  const cursor = samples.reduce((m, s) => Math.max(m, s.id), await latestSampleId(db, clusterId));
  return { samples: downsample(samples, HISTORY_BUCKET_MS), cursor, from };
}

export async function latestSampleId(db: Db, clusterId: string): Promise<number> {
  const last = await db.healthSample.findFirst({
    where: { clusterId },
    orderBy: { id: "desc" },
    select: { id: true },
  });
  return last?.id ?? 0;
}

/** Samples after the cursor, oldest first, at most `limit`. */
export async function samplesAfter(
  db: Db,
  clusterId: string,
  cursor: number,
  limit = 5_000,
): Promise<{ samples: Sample[]; cursor: number }> {
  const rows = await db.healthSample.findMany({
    where: { clusterId, id: { gt: cursor } },
    orderBy: { id: "asc" },
    take: limit,
    select: { id: true, gatewayId: true, at: true, data: true },
  });
  const samples = rows.map(toSample);
  return { samples, cursor: samples.at(-1)?.id ?? cursor };
}

export interface RangeHistory {
  range: HistoryRange;
  from: number;
  to: number;
  /** width of each point's bucket, ms */
  bucketMs: number;
  resolution: "minute" | "hour";
  series: RollupSeries;
}

/** A longer range of the charts, from the rollups of the resolution its plan names. */
export async function healthHistoryRange(
  db: Db,
  clusterId: string,
  range: Exclude<HistoryRange, "20m">,
  now = new Date(),
): Promise<RangeHistory> {
  const plan = RANGE_PLANS[range];
  if (plan.source === "samples") throw new Error(`range ${range} reads samples, not rollups`);
  const from = now.getTime() - plan.spanMs;
  const rows = await readRollups(db, clusterId, plan.source, new Date(from));
  return {
    range,
    from,
    to: now.getTime(),
    bucketMs: plan.bucketMs,
    resolution: plan.source,
    series: rollupSeries(rows, plan.bucketMs),
  };
}

import { z } from "zod";
import { zLinkState } from "../../../core/protocol/health-report";
import type { Db } from "../../db";
import { downsample, type Sample, type SampleData } from "../../../core/health/series";

/**
 * Health history for the charts. Samples live in a table (one row per gateway report, about one
 * a second, pruned after 20 minutes by the reports themselves) rather than in each console
 * process's memory: with several console replicas behind a load balancer every replica sees
 * every gateway's history, and a restart keeps the last minutes.
 */

export const HISTORY_MS = 15 * 60_000;
/** the history is sent in 3-second buckets: 300 points a gateway for 15 minutes */
export const HISTORY_BUCKET_MS = 3_000;
const MAX_ROWS = 200_000;

const zSampleData = z.record(
  z.string(),
  z.object({ s: zLinkState, l: z.number().nullable(), r: z.number().nullable(), f: z.string().nullable() }),
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

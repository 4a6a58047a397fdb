import type { LinkState } from "./link-state";
import type { SampleIsp } from "./series";

/**
 * Health history beyond the last minutes: every sample of a gateway's ISP is folded, as it
 * arrives, into one aggregate per minute and one per hour. Aggregates keep sums, counts and
 * extremes (never averages), so folding is exact whatever order or process folds them: a console
 * that restarts mid-minute goes on folding into the stored row, and two rows of one bucket merge
 * into the same result as one row that saw every sample. Pure: the server stores and reads rows,
 * the browser charts points.
 */

export type Resolution = "minute" | "hour";

export const RESOLUTIONS: Record<Resolution, { bucketMs: number; keepMs: number }> = {
  minute: { bucketMs: 60_000, keepMs: 7 * 86_400_000 },
  hour: { bucketMs: 3_600_000, keepMs: 90 * 86_400_000 },
};

/** The aggregate of one gateway's ISP over one bucket, as stored (one column per field). */
export interface Rollup {
  /** samples folded in */
  n: number;
  /** samples whose state was up, degraded, down (the rest were unknown) */
  up: number;
  degraded: number;
  down: number;
  /** loss percent: samples that had a value, their sum and the highest */
  lossN: number;
  lossSum: number;
  lossMax: number | null;
  /** mean round-trip time, ms: samples that had a value, their sum, lowest and highest */
  rttN: number;
  rttSum: number;
  rttMin: number | null;
  rttMax: number | null;
  /** samples taken while the ISP's traffic went through a backup */
  failedOver: number;
  /** connections through the ISP: samples that had a count, their sum and the highest */
  connN: number;
  connSum: number;
  connMax: number | null;
}

export const EMPTY_ROLLUP: Readonly<Rollup> = Object.freeze({
  n: 0,
  up: 0,
  degraded: 0,
  down: 0,
  lossN: 0,
  lossSum: 0,
  lossMax: null,
  rttN: 0,
  rttSum: 0,
  rttMin: null,
  rttMax: null,
  failedOver: 0,
  connN: 0,
  connSum: 0,
  connMax: null,
});

/** Start of the bucket of `at` (ms since the epoch, UTC): a sample on a boundary opens the next bucket. */
export function bucketStart(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs) * bucketMs;
}

const lower = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const higher = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** The rollup with one more sample folded in. */
export function foldSample(r: Readonly<Rollup>, v: SampleIsp): Rollup {
  const conn = v.c ?? null;
  return {
    n: r.n + 1,
    up: r.up + (v.s === "up" ? 1 : 0),
    degraded: r.degraded + (v.s === "degraded" ? 1 : 0),
    down: r.down + (v.s === "down" ? 1 : 0),
    lossN: r.lossN + (v.l === null ? 0 : 1),
    lossSum: r.lossSum + (v.l ?? 0),
    lossMax: higher(r.lossMax, v.l),
    rttN: r.rttN + (v.r === null ? 0 : 1),
    rttSum: r.rttSum + (v.r ?? 0),
    rttMin: lower(r.rttMin, v.r),
    rttMax: higher(r.rttMax, v.r),
    failedOver: r.failedOver + (v.f === null ? 0 : 1),
    connN: r.connN + (conn === null ? 0 : 1),
    connSum: r.connSum + (conn ?? 0),
    connMax: higher(r.connMax, conn),
  };
}

/** Two rollups of the same gateway's ISP as one (a coarser bucket, or rows of one bucket). */
export function mergeRollups(a: Readonly<Rollup>, b: Readonly<Rollup>): Rollup {
  return {
    n: a.n + b.n,
    up: a.up + b.up,
    degraded: a.degraded + b.degraded,
    down: a.down + b.down,
    lossN: a.lossN + b.lossN,
    lossSum: a.lossSum + b.lossSum,
    lossMax: higher(a.lossMax, b.lossMax),
    rttN: a.rttN + b.rttN,
    rttSum: a.rttSum + b.rttSum,
    rttMin: lower(a.rttMin, b.rttMin),
    rttMax: higher(a.rttMax, b.rttMax),
    failedOver: a.failedOver + b.failedOver,
    connN: a.connN + b.connN,
    connSum: a.connSum + b.connSum,
    connMax: higher(a.connMax, b.connMax),
  };
}

/** One chart point of a rollup: averages, extremes, and shares of the bucket's samples. */
export interface RollupPoint {
  /** start of the bucket, ms */
  t: number;
  samples: number;
  lossPct: number | null;
  lossMaxPct: number | null;
  rttMs: number | null;
  rttMinMs: number | null;
  rttMaxMs: number | null;
  /** share of the samples with the link up or degraded (carrying traffic), 0 to 1 */
  upFraction: number;
  /** share of the samples with the traffic going through a backup, 0 to 1 */
  failedOverFraction: number;
  connections: number | null;
  connectionsMax: number | null;
  /** the worst state seen in the bucket */
  state: LinkState;
}

export function toPoint(t: number, r: Readonly<Rollup>): RollupPoint {
  const share = (k: number) => (r.n === 0 ? 0 : k / r.n);
  return {
    t,
    samples: r.n,
    lossPct: r.lossN === 0 ? null : r.lossSum / r.lossN,
    lossMaxPct: r.lossMax,
    rttMs: r.rttN === 0 ? null : r.rttSum / r.rttN,
    rttMinMs: r.rttMin,
    rttMaxMs: r.rttMax,
    upFraction: share(r.up + r.degraded),
    failedOverFraction: share(r.failedOver),
    connections: r.connN === 0 ? null : r.connSum / r.connN,
    connectionsMax: r.connMax,
    state: r.down > 0 ? "down" : r.degraded > 0 ? "degraded" : r.up > 0 ? "up" : "unknown",
  };
}

/** A stored rollup row as the reader needs it. */
export interface RollupRow extends Rollup {
  gatewayId: string;
  ispId: string;
  /** start of the stored bucket, ms */
  at: number;
}

/** series[ispId][gatewayId] = points in time order; a bucket without samples has no point (a gap). */
export type RollupSeries = Record<string, Record<string, RollupPoint[]>>;

/**
 * Rows regrouped into buckets of `bucketMs` (a multiple of the rows' resolution) and turned into
 * points: a day of minute rows drawn as 5-minute points keeps each minute's extremes.
 */
export function rollupSeries(rows: readonly RollupRow[], bucketMs: number): RollupSeries {
  const acc = new Map<string, Map<string, Map<number, Rollup>>>();
  for (const row of rows) {
    const t = bucketStart(row.at, bucketMs);
    let byGateway = acc.get(row.ispId);
    if (byGateway === undefined) {
      byGateway = new Map();
      acc.set(row.ispId, byGateway);
    }
    let buckets = byGateway.get(row.gatewayId);
    if (buckets === undefined) {
      buckets = new Map();
      byGateway.set(row.gatewayId, buckets);
    }
    buckets.set(t, mergeRollups(buckets.get(t) ?? EMPTY_ROLLUP, row));
  }
  const series: RollupSeries = {};
  for (const [ispId, byGateway] of acc) {
    const out: Record<string, RollupPoint[]> = {};
    for (const [gatewayId, buckets] of byGateway) {
      out[gatewayId] = [...buckets]
        .filter(([, r]) => r.n > 0)
        .sort(([a], [b]) => a - b)
        .map(([t, r]) => toPoint(t, r));
    }
    series[ispId] = out;
  }
  return series;
}

/** The time ranges the charts offer, and where each one reads from. */
export const HISTORY_RANGES = ["20m", "6h", "24h", "7d", "90d"] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];

export const RANGE_PLANS: Record<
  HistoryRange,
  { label: string; spanMs: number; source: "samples" | Resolution; bucketMs: number }
> = {
  "20m": { label: "20 min", spanMs: 20 * 60_000, source: "samples", bucketMs: 3_000 },
  "6h": { label: "6 h", spanMs: 6 * 3_600_000, source: "minute", bucketMs: 60_000 },
  "24h": { label: "24 h", spanMs: 86_400_000, source: "minute", bucketMs: 5 * 60_000 },
  "7d": { label: "7 d", spanMs: 7 * 86_400_000, source: "hour", bucketMs: 3_600_000 },
  "90d": { label: "90 d", spanMs: 90 * 86_400_000, source: "hour", bucketMs: 6 * 3_600_000 },
};

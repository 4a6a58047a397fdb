import type { LinkState } from "@/core/health/link-state";
import { bucketSamples, type Sample } from "@/core/health/series";
import { type HistoryRange, RANGE_PLANS, type RollupSeries } from "@/core/health/rollup";

/** Pure helpers of the health page: chart rows, words for states and events. */

export const WINDOW_MS = RANGE_PLANS["20m"].spanMs;
export const BUCKET_MS = RANGE_PLANS["20m"].bucketMs;

const SPAN_WORDS: Record<HistoryRange, string> = {
  "20m": "last 20 minutes",
  "6h": "last 6 hours",
  "24h": "last 24 hours",
  "7d": "last 7 days",
  "90d": "last 90 days",
};

/** "last 6 hours, 1-minute means": what a chart of the range shows. */
export function rangeCaption(range: HistoryRange): string {
  const plan = RANGE_PLANS[range];
  if (plan.source === "samples") return SPAN_WORDS[range];
  const minutes = plan.bucketMs / 60_000;
  const width = minutes < 60 ? `${minutes}-minute` : `${minutes / 60}-hour`;
  return `${SPAN_WORDS[range]}, ${width} means`;
}

export const STATE_LABELS: Record<LinkState, string> = {
  up: "up",
  degraded: "degraded",
  down: "down",
  unknown: "unknown",
};

export function stateClass(state: LinkState | null): string {
  if (state === "up") return "badge ok";
  if (state === "degraded") return "badge warn";
  if (state === "down") return "badge danger";
  return "badge";
}

/** Keeps the samples of the window, newest last, each once. */
export function keepWindow(samples: readonly Sample[], now: number, windowMs = WINDOW_MS): Sample[] {
  const from = now - windowMs;
  const seen = new Set<string>();
  const out: Sample[] = [];
  for (const s of samples) {
    const key = `${s.gatewayId}\u0000${s.id}`;
    if (s.at < from || seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out.sort((a, b) => a.at - b.at);
}

export type ChartRow = { t: number } & Record<string, number | null>;

/**
 * One row per bucket with a column per gateway (keyed by gateway name): what recharts draws as
 * one line per gateway. A gateway with no sample in a bucket has no value there (a gap).
 */
export function chartRows(
  samples: readonly Sample[],
  ispId: string,
  gatewayNames: ReadonlyMap<string, string>,
  metric: "lossPct" | "rttMs",
  bucketMs = BUCKET_MS,
): ChartRow[] {
  const series = bucketSamples(samples, bucketMs)[ispId] ?? {};
  const rows = new Map<number, ChartRow>();
  for (const [gatewayId, points] of Object.entries(series)) {
    const name = gatewayNames.get(gatewayId);
    if (name === undefined) continue;
    for (const p of points) {
      let row = rows.get(p.t);
      if (row === undefined) {
        row = { t: p.t } as ChartRow;
        rows.set(p.t, row);
      }
      const v = p[metric];
      row[name] = v === null ? null : Math.round(v * 100) / 100;
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

/**
 * chartRows for a longer range: one row per rollup bucket, a column per gateway. `upPct` is the
 * share of the bucket's samples with the link carrying traffic, in percent. A gateway that sent
 * nothing for a while (offline, or the console was down) gets an empty value in the first bucket
 * it missed, so its line breaks there instead of bridging the gap.
 */
export function rollupChartRows(
  series: RollupSeries,
  ispId: string,
  gatewayNames: ReadonlyMap<string, string>,
  metric: "lossPct" | "rttMs" | "upPct",
  bucketMs: number,
): ChartRow[] {
  const rows = new Map<number, ChartRow>();
  const rowAt = (t: number) => {
    let row = rows.get(t);
    if (row === undefined) {
      row = { t } as ChartRow;
      rows.set(t, row);
    }
    return row;
  };
  for (const [gatewayId, points] of Object.entries(series[ispId] ?? {})) {
    const name = gatewayNames.get(gatewayId);
    if (name === undefined) continue;
    let last: number | null = null;
    for (const p of points) {
      if (last !== null && p.t - last > bucketMs) rowAt(last + bucketMs)[name] ??= null;
      const v = metric === "upPct" ? p.upFraction * 100 : p[metric];
      rowAt(p.t)[name] = v === null ? null : Math.round(v * 100) / 100;
      last = p.t;
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatPct(p: number | null | undefined): string {
  if (p === null || p === undefined) return "—";
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export function sinceText(iso: string | null, now: number): string {
  if (iso === null) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

interface EventLike {
  action: string;
  actorType: string;
  actorName: string;
  ispId: string;
  details: Record<string, unknown>;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** One line for the timeline: who did what to which ISP, why, and how fast. */
export function describeEvent(e: EventLike, ispNames: ReadonlyMap<string, string>): string {
  const d = e.details;
  const isp = ispNames.get(e.ispId) ?? str(d.isp) ?? e.ispId;
  const name = (id: unknown) => (typeof id === "string" ? (ispNames.get(id) ?? id) : "");
  const t = d.timings as { detectMs?: number | null; switchMs?: number; flushed?: number } | null | undefined;
  const timing = t
    ? ` (${t.detectMs != null ? `noticed ${formatMs(t.detectMs)} after the last answer, ` : ""}switched in ${formatMs(t.switchMs)}, ${t.flushed ?? 0} connections flushed)`
    : "";
  switch (e.action) {
    case "isp.failover":
      return e.actorType === "user"
        ? `${e.actorName} failed ${isp} over${d.backup ? ` to ${str(d.backup)}` : ""}`
        : `${e.actorName} failed ${isp} over to ${name(d.to)} on its own: ${str(d.reason)}${timing}`;
    case "isp.failback":
      return `${e.actorName} moved ${isp}'s traffic back from ${name(d.from)}: ${str(d.reason)}${timing}`;
    case "isp.restore":
      return `${e.actorName} restored ${isp}`;
    case "isp.alert":
      return `${e.actorName}: ${str(d.reason)}`;
    case "isp.alert_cleared":
      return `${e.actorName}: alert for ${isp} cleared`;
    case "isp.failover_applied":
    case "isp.restore_applied": {
      const what = e.action === "isp.failover_applied" ? "Failover" : "Restore";
      const all = typeof d.allAppliedMs === "number" ? ` in ${formatMs(d.allAppliedMs)}` : "";
      const missing =
        Array.isArray(d.notApplied) && d.notApplied.length > 0 ? `; not applied on ${d.notApplied.join(", ")}` : "";
      return d.outcome === "applied"
        ? `${what} of ${isp} applied on every gateway${all}`
        : `${what} of ${isp} timed out${missing}`;
    }
    default:
      return `${e.action} ${isp}`;
  }
}

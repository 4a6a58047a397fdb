import type { ConntrackStats, PoolAddressUsage } from "../protocol/health-report";

/**
 * Port usage of SNAT pool addresses: how full a pool address is, the level that calls for a
 * warning or an alert, and a simple forecast of when it fills. Pure, so the agent (metrics), the
 * console (incidents) and the browser (Pools page) decide alike.
 *
 * The real limit: a new connection needs a source port on its pool address that no other
 * connection uses toward the same destination address, port and protocol. So an address is as
 * full as its busiest destination: 100 ports reach 100 connections to one web server, and many
 * more spread over many servers.
 */

/**
 * The ports the kernel picks from when the pool sets no range: for a source port of 1024 or
 * above (what clients use) nf_nat takes 1024-65535, keeping the client's port when it is free.
 */
export const DEFAULT_SNAT_PORT_RANGE = { from: 1024, to: 65_535 } as const;

export const WARNING_PCT = 80;
export const ALERT_PCT = 95;
/** a level ends only once the fill is this many points below where it started: no flapping */
export const CLEAR_MARGIN_PCT = 5;

export const USAGE_LEVELS = ["ok", "warning", "alert"] as const;
export type UsageLevel = (typeof USAGE_LEVELS)[number];

export function portRangeSize(range: { from: number; to: number } | null): number {
  const r = range ?? DEFAULT_SNAT_PORT_RANGE;
  return r.to - r.from + 1;
}

/** Percent of the port range in use toward the address's busiest destination, 0 to 100. */
export function addressFillPct(u: Pick<PoolAddressUsage, "busiest" | "ports">): number {
  if (u.busiest === null || u.ports <= 0) return 0;
  return Math.min(100, (u.busiest.connections / u.ports) * 100);
}

/** Percent of the conntrack table in use; null when its size is not known. */
export function conntrackFillPct(c: Pick<ConntrackStats, "count" | "max">): number | null {
  if (c.max === null || c.max <= 0) return null;
  return Math.min(100, (c.count / c.max) * 100);
}

/**
 * The level for a fill: warning from 80%, alert from 95%. With the level it had before, a level
 * holds until the fill drops `CLEAR_MARGIN_PCT` below its threshold.
 */
export function usageLevel(pct: number, previous: UsageLevel = "ok"): UsageLevel {
  const held = (threshold: number, level: UsageLevel) =>
    pct >= threshold ||
    (USAGE_LEVELS.indexOf(previous) >= USAGE_LEVELS.indexOf(level) && pct >= threshold - CLEAR_MARGIN_PCT);
  if (held(ALERT_PCT, "alert")) return "alert";
  if (held(WARNING_PCT, "warning")) return "warning";
  return "ok";
}

export const LEVEL_LABELS: Record<UsageLevel, string> = { ok: "ok", warning: "warning", alert: "alert" };

/** One point of a fill series: ms since the epoch, percent. */
export interface FillPoint {
  at: number;
  pct: number;
}

export type Forecast =
  | { kind: "unknown" }
  | { kind: "full" }
  | { kind: "not_growing" }
  /** full in `ms` at the growth of the window */
  | { kind: "filling"; ms: number; pctPerMinute: number };

/** growth below this (percent points per minute) is noise, not growth */
const MIN_GROWTH_PER_MINUTE = 0.05;
/** the forecast looks at this much history */
export const FORECAST_WINDOW_MS = 30 * 60_000;
const MIN_SPAN_MS = 20_000;

/**
 * When the fill reaches 100% at the current growth: a least-squares line through the points of
 * the last `FORECAST_WINDOW_MS`, extended from the latest point. Needs three points spanning 20 s.
 */
export function forecastFull(points: readonly FillPoint[]): Forecast {
  if (points.length === 0) return { kind: "unknown" };
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const last = sorted[sorted.length - 1] as FillPoint;
  if (last.pct >= 100) return { kind: "full" };
  const recent = sorted.filter((p) => p.at >= last.at - FORECAST_WINDOW_MS);
  const first = recent[0] as FillPoint;
  if (recent.length < 3 || last.at - first.at < MIN_SPAN_MS) return { kind: "unknown" };
  const n = recent.length;
  const mt = recent.reduce((a, p) => a + (p.at - first.at), 0) / n;
  const mp = recent.reduce((a, p) => a + p.pct, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of recent) {
    const dt = p.at - first.at - mt;
    num += dt * (p.pct - mp);
    den += dt * dt;
  }
  const perMs = den === 0 ? 0 : num / den;
  const pctPerMinute = perMs * 60_000;
  if (pctPerMinute < MIN_GROWTH_PER_MINUTE) return { kind: "not_growing" };
  return { kind: "filling", ms: (100 - last.pct) / perMs, pctPerMinute };
}

function roughDuration(ms: number): string {
  const min = ms / 60_000;
  if (min < 90) return `${Math.round(min)} min`;
  const h = min / 60;
  if (h < 36) return `${Math.round(h)} h`;
  return `${Math.round(h / 24)} days`;
}

export function describeForecast(f: Forecast): string {
  switch (f.kind) {
    case "unknown":
      return "not enough history for a forecast yet";
    case "full":
      return "full now";
    case "not_growing":
      return "not growing";
    case "filling":
      return f.ms < 60_000
        ? "full in under a minute at the current growth"
        : `full in about ${roughDuration(f.ms)} at the current growth`;
  }
}

/**
 * A pool usage incident: one pool address of one gateway at warning or alert. The key holds the
 * level, so an episode that grows from warning to alert resolves the warning and opens the alert.
 */
export interface PoolUsageIncident {
  key: string;
  level: Exclude<UsageLevel, "ok">;
  gatewayId: string;
  poolId: string;
  address: string;
  /** the fill when it opened, percent */
  pct: number;
  /** the destination it filled toward, as `tcp 203.0.113.10:443` */
  toward: string;
}

/** What one report changed: incidents that opened, that resolved, and the ones open now. */
export interface PoolUsageIncidentChange {
  open: PoolUsageIncident[];
  opened: PoolUsageIncident[];
  resolved: PoolUsageIncident[];
}

const incidentKey = (level: UsageLevel, gatewayId: string, poolId: string, address: string) =>
  `${level}:${gatewayId}:${poolId}:${address}`;

/**
 * Decides a gateway's pool usage incidents from its latest counts and the incidents already open
 * for it. An address the report no longer names (the pool was removed, or the gateway no longer
 * holds it) resolves its incident.
 */
export function decidePoolUsageIncidents(
  gatewayId: string,
  previous: readonly PoolUsageIncident[],
  usage: readonly PoolAddressUsage[],
): PoolUsageIncidentChange {
  const before = new Map(previous.map((i) => [`${i.poolId}:${i.address}`, i]));
  const open: PoolUsageIncident[] = [];
  for (const u of usage) {
    const had = before.get(`${u.poolId}:${u.address}`);
    const pct = addressFillPct(u);
    const level = usageLevel(pct, had?.level ?? "ok");
    if (level === "ok") continue;
    if (had !== undefined && had.level === level) {
      open.push(had);
      continue;
    }
    const b = u.busiest;
    open.push({
      key: incidentKey(level, gatewayId, u.poolId, u.address),
      level,
      gatewayId,
      poolId: u.poolId,
      address: u.address,
      pct: Math.round(pct * 10) / 10,
      toward: b === null ? "" : `${b.protocol} ${b.destination}:${b.port}`,
    });
  }
  const openKeys = new Set(open.map((i) => i.key));
  const previousKeys = new Set(previous.map((i) => i.key));
  return {
    open,
    opened: open.filter((i) => !previousKeys.has(i.key)),
    resolved: previous.filter((i) => !openKeys.has(i.key)),
  };
}

/** An incident in operator words. */
export function describePoolUsageIncident(
  i: PoolUsageIncident,
  names: { gateway: string; pool: string },
  state: "open" | "resolved" = "open",
): string {
  const where = `pool "${names.pool}" address ${i.address} on gateway "${names.gateway}"`;
  const toward = i.toward === "" ? "" : ` toward ${i.toward}`;
  if (state === "resolved") return `Port usage of ${where} is back below the ${i.level} level.`;
  const what =
    i.level === "alert"
      ? "New connections to that destination will fail soon: add addresses to the pool or widen its port range."
      : "Add addresses or widen the port range before it fills.";
  return `Port usage ${i.level}: ${where} has ${i.pct}% of its ports in use${toward}. ${what}`;
}

import { z } from "zod";
import {
  addressFillPct,
  conntrackFillPct,
  describeForecast,
  describePoolUsageIncident,
  type FillPoint,
  forecastFull,
  type UsageLevel,
  USAGE_LEVELS,
  usageLevel,
} from "../../../core/health/port-usage";
import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";
import { POOL_USAGE_MS, zPoolUsageReport } from "../../../core/protocol/health-report";
import type { Db } from "../../db";
import { parseIncidents } from "./incidents";
import type { UsageSampleData } from "./ingest";

/**
 * Port usage of a cluster's pools as the Pools and Health pages show it: each pool address's
 * latest count per gateway with its level, the last hour of each pool's fill (its fullest
 * address) with the forecast in words, the gateways' conntrack tables, and the open incidents.
 */

export const CHART_WINDOW_MS = 60 * 60_000;
/** one point per count: the gateways of a cluster count about as often */
const BUCKET_MS = POOL_USAGE_MS;

const zStored = zPoolUsageReport.extend({ receivedAt: z.string() });

function parseUsage(text: string) {
  try {
    const r = zStored.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function parseSample(text: string): UsageSampleData {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as UsageSampleData) : [];
  } catch {
    return [];
  }
}

const worse = (a: UsageLevel, b: UsageLevel) => (USAGE_LEVELS.indexOf(a) >= USAGE_LEVELS.indexOf(b) ? a : b);

/** The cluster's open pool usage incidents of online gateways, named and worded (alerts read these). */
export async function openPoolUsageIncidents(db: Db, clusterId: string, now = new Date()) {
  const gateways = await db.gateway.findMany({
    where: { clusterId },
    select: { id: true, name: true, lastSeenAt: true, usageIncidents: true },
    orderBy: { name: "asc" },
  });
  const pools = await db.pool.findMany({ where: { clusterId }, select: { id: true, name: true } });
  return incidentsOf(gateways, new Map(pools.map((p) => [p.id, p.name])), now);
}

const isOnlineAt = (now: Date) => (seen: Date | null) =>
  seen !== null && now.getTime() - seen.getTime() <= OFFLINE_AFTER_SECONDS * 1000;

function incidentsOf(
  gateways: Array<{ id: string; name: string; lastSeenAt: Date | null; usageIncidents: string }>,
  poolNames: ReadonlyMap<string, string>,
  now: Date,
) {
  const isOnline = isOnlineAt(now);
  // an offline gateway's counts are stale: its incidents are not shown until it reports again
  return gateways.flatMap((g) =>
    (isOnline(g.lastSeenAt) ? parseIncidents(g.usageIncidents) : []).map((i) => ({
      ...i,
      gatewayName: g.name,
      poolName: poolNames.get(i.poolId) ?? i.poolId,
      text: describePoolUsageIncident(i, { gateway: g.name, pool: poolNames.get(i.poolId) ?? i.poolId }),
    })),
  );
}

export async function listPoolUsage(db: Db, clusterId: string, now = new Date()) {
  const gateways = await db.gateway.findMany({
    where: { clusterId },
    select: { id: true, name: true, lastSeenAt: true, poolUsage: true, usageIncidents: true },
    orderBy: { name: "asc" },
  });
  const pools = await db.pool.findMany({ where: { clusterId }, select: { id: true, name: true } });
  const poolNames = new Map(pools.map((p) => [p.id, p.name]));
  const samples = await db.usageSample.findMany({
    where: { clusterId, at: { gte: new Date(now.getTime() - CHART_WINDOW_MS) } },
    select: { at: true, data: true },
    orderBy: { at: "asc" },
  });

  const isOnline = isOnlineAt(now);
  const incidents = incidentsOf(gateways, poolNames, now);
  const openLevel = new Map(incidents.map((i) => [`${i.gatewayId} ${i.poolId} ${i.address}`, i.level]));

  const byPool = new Map<
    string,
    Array<{
      gatewayId: string;
      gatewayName: string;
      address: string;
      ports: number;
      tcp: number;
      udp: number;
      other: number;
      busiest: { protocol: string; destination: string; port: number; connections: number } | null;
      pct: number;
      level: UsageLevel;
    }>
  >();
  const conntrack = [];
  for (const g of gateways) {
    const usage = parseUsage(g.poolUsage);
    if (usage === null) continue;
    const online = isOnline(g.lastSeenAt);
    if (usage.conntrack !== null) {
      conntrack.push({
        gatewayId: g.id,
        gatewayName: g.name,
        online,
        at: usage.at,
        ...usage.conntrack,
        pct: conntrackFillPct(usage.conntrack),
      });
    }
    if (!online) continue;
    for (const a of usage.addresses) {
      const pct = addressFillPct(a);
      const list = byPool.get(a.poolId) ?? [];
      list.push({
        gatewayId: g.id,
        gatewayName: g.name,
        address: a.address,
        ports: a.ports,
        tcp: a.tcp,
        udp: a.udp,
        other: a.other,
        busiest: a.busiest,
        pct: Math.round(pct * 10) / 10,
        level: openLevel.get(`${g.id} ${a.poolId} ${a.address}`) ?? usageLevel(pct),
      });
      byPool.set(a.poolId, list);
    }
  }

  // each pool's fill over time: its fullest address, per count
  const series = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const t = Math.floor(s.at.getTime() / BUCKET_MS) * BUCKET_MS;
    for (const [poolId, , pct] of parseSample(s.data)) {
      if (typeof poolId !== "string" || typeof pct !== "number") continue;
      const m = series.get(poolId) ?? new Map<number, number>();
      m.set(t, Math.max(m.get(t) ?? 0, pct));
      series.set(poolId, m);
    }
  }

  const ids = new Set([...byPool.keys(), ...series.keys()]);
  return {
    pools: [...ids].map((poolId) => {
      const addresses = byPool.get(poolId) ?? [];
      const points: FillPoint[] = [...(series.get(poolId) ?? new Map<number, number>())]
        .sort(([a], [b]) => a - b)
        .map(([at, pct]) => ({ at, pct }));
      const forecast = forecastFull(points);
      return {
        poolId,
        name: poolNames.get(poolId) ?? poolId,
        level: addresses.reduce<UsageLevel>((l, a) => worse(l, a.level), "ok"),
        pct: addresses.reduce((m, a) => Math.max(m, a.pct), 0),
        addresses,
        points,
        forecast,
        forecastText: describeForecast(forecast),
      };
    }),
    conntrack,
    incidents,
    windowMs: CHART_WINDOW_MS,
  };
}

export type PoolUsageList = Awaited<ReturnType<typeof listPoolUsage>>;

"use client";

import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Area, AreaChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ALERT_PCT, type UsageLevel, WARNING_PCT } from "@/core/health/port-usage";
import type { AppRouter } from "@/server/trpc/root";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";

type UsageList = inferRouterOutputs<AppRouter>["poolUsage"]["list"];
export type PoolUsageView = UsageList["pools"][number];

const BADGE: Record<UsageLevel, string> = { ok: "badge ok", warning: "badge warn", alert: "badge danger" };

/** The cluster's port usage, refreshed as the agents count (every 10 s). */
export function usePoolUsage(clusterId: string) {
  const trpc = useTRPC();
  return useQuery(trpc.poolUsage.list.queryOptions({ clusterId }, { refetchInterval: 5_000 }));
}

export function LevelBadge({ level, pct }: { level: UsageLevel; pct: number }) {
  return (
    <span
      className={BADGE[level]}
      data-level={level}
      title={`${pct}% of the port range toward the busiest destination`}
    >
      {level === "ok" ? `${pct}%` : `${level} ${pct}%`}
    </span>
  );
}

/** The Pools table's cell: the pool's fullest address. */
export function UsageCell({ usage }: { usage: PoolUsageView | undefined }) {
  if (usage === undefined || usage.addresses.length === 0) return <span className="muted">not reported</span>;
  return <LevelBadge level={usage.level} pct={usage.pct} />;
}

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function UsageChart({ pool, windowMs }: { pool: PoolUsageView; windowMs: number }) {
  const to = Date.now();
  return (
    <figure aria-label={`Port usage of ${pool.name}`} style={{ margin: 0 }}>
      <ResponsiveContainer width="100%" height={120}>
        <AreaChart data={pool.points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
          <XAxis
            dataKey="at"
            type="number"
            domain={[to - windowMs, to]}
            scale="time"
            tickFormatter={clock}
            tick={{ fontSize: 11 }}
            minTickGap={40}
          />
          <YAxis domain={[0, 100]} tick={{ fontSize: 11 }} width={48} unit="%" />
          <ReferenceLine y={WARNING_PCT} stroke="#bf8700" strokeDasharray="4 2" />
          <ReferenceLine y={ALERT_PCT} stroke="#cf222e" strokeDasharray="4 2" />
          <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()} formatter={(v) => `${v}%`} />
          <Area
            dataKey="pct"
            name="fullest address"
            stroke="#1f6feb"
            fill="#1f6feb"
            fillOpacity={0.15}
            isAnimationActive={false}
          />
        </AreaChart>
      </ResponsiveContainer>
    </figure>
  );
}

/**
 * Port usage per pool: each address on each gateway with its connections per protocol and the
 * fill toward its busiest destination, the last hour as a chart, and when it fills at the
 * current growth.
 */
export function PoolUsageSection({ clusterId }: { clusterId: string }) {
  const q = usePoolUsage(clusterId);
  return (
    <section aria-label="Port usage" style={{ marginTop: 18 }}>
      <h2>Port usage</h2>
      <p className="muted small">
        A connection needs a free port on its pool address toward its destination (address, port and protocol), so an
        address is as full as its busiest destination. Warning from {WARNING_PCT}%, alert from {ALERT_PCT}%.
      </p>
      {q.error ? (
        <div className="banner error">Could not load port usage: {errorMessage(q.error)}</div>
      ) : q.data === undefined ? (
        <div className="loading">Loading port usage…</div>
      ) : q.data.pools.length === 0 ? (
        <p className="muted" data-testid="usage-empty">
          No gateway has reported port usage yet: agents count it every 10 seconds once they run a published revision.
        </p>
      ) : (
        q.data.pools.map((p) => (
          <div key={p.poolId} data-testid={`usage-${p.name}`} style={{ marginBottom: 18 }}>
            <h3>
              {p.name} <LevelBadge level={p.level} pct={p.pct} />
            </h3>
            <p className="small" data-testid="usage-forecast">
              Forecast: {p.forecastText}.
            </p>
            <UsageChart pool={p} windowMs={q.data.windowMs} />
            {p.addresses.length > 0 && (
              <table className="data" aria-label={`Port usage of ${p.name} per address`}>
                <thead>
                  <tr>
                    <th>Gateway</th>
                    <th>Address</th>
                    <th className="num">TCP</th>
                    <th className="num">UDP</th>
                    <th className="num">Other</th>
                    <th>Busiest destination</th>
                    <th className="num">Ports</th>
                    <th>Fill</th>
                  </tr>
                </thead>
                <tbody>
                  {p.addresses.map((a) => (
                    <tr key={`${a.gatewayId} ${a.address}`}>
                      <td>{a.gatewayName}</td>
                      <td className="mono">{a.address}</td>
                      <td className="num">{a.tcp}</td>
                      <td className="num">{a.udp}</td>
                      <td className="num">{a.other}</td>
                      <td className="mono">
                        {a.busiest === null ? (
                          <span className="muted">none</span>
                        ) : (
                          `${a.busiest.protocol} ${a.busiest.destination}:${a.busiest.port} (${a.busiest.connections})`
                        )}
                      </td>
                      <td className="num">{a.ports}</td>
                      <td>
                        <LevelBadge level={a.level} pct={a.pct} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        ))
      )}
    </section>
  );
}

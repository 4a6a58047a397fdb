"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import styles from "./health.module.css";
import type { ChartRow } from "./present";

const COLORS = ["#1f6feb", "#d2691e", "#2da44e", "#a371f7", "#cf222e", "#bf8700", "#0a7ea4", "#8250df"];

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const dayClock = (t: number) =>
  new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const day = (t: number) => new Date(t).toLocaleDateString([], { month: "short", day: "numeric" });

/** Tick labels that fit the span: times of day, then day and time, then days. */
function tickFormat(spanMs: number): (t: number) => string {
  if (spanMs <= 86_400_000) return clock;
  if (spanMs <= 8 * 86_400_000) return dayClock;
  return day;
}

/** One line per gateway over the chosen range; no animation, it redraws every second. */
export function MetricChart({
  title,
  rows,
  gateways,
  from,
  to,
  unit,
  max,
  span,
}: {
  title: string;
  rows: ChartRow[];
  gateways: string[];
  from: number;
  to: number;
  unit: string;
  max?: number;
  /** the range's length, ms: picks the tick labels */
  span?: number;
}) {
  const ticks = tickFormat(span ?? to - from);
  return (
    <figure className={styles.chart} aria-label={title}>
      <figcaption className="muted small">{title}</figcaption>
      <ResponsiveContainer width="100%" height={150}>
        <LineChart data={rows} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.3} />
          <XAxis
            dataKey="t"
            type="number"
            domain={[from, to]}
            scale="time"
            tickFormatter={ticks}
            tick={{ fontSize: 11 }}
            minTickGap={40}
          />
          <YAxis
            tick={{ fontSize: 11 }}
            width={44}
            domain={[0, max ?? "auto"]}
            allowDecimals
            tickFormatter={(v: number) => (v >= 10 ? String(Math.round(v)) : String(Number(v.toPrecision(2))))}
          />
          <Tooltip
            labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
            formatter={(v) => (v === null || v === undefined ? "—" : `${v}${unit}`)}
          />
          {gateways.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
          {gateways.map((g, i) => (
            <Line
              key={g}
              dataKey={g}
              name={g}
              stroke={COLORS[i % COLORS.length]}
              dot={false}
              strokeWidth={1.5}
              isAnimationActive={false}
              connectNulls={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

import type { LinkState } from "./link-state";

/**
 * Health samples as the console keeps and charts them. Pure, so the server (history) and the
 * browser (live updates) bucket samples the same way.
 */

/** One ISP in one sample, keys kept short: a sample per gateway per second adds up. */
export interface SampleIsp {
  /** state */
  s: LinkState;
  /** loss percent over the agent's window */
  l: number | null;
  /** mean round-trip time, ms */
  r: number | null;
  /** the backup the ISP's traffic goes through, null when none */
  f: string | null;
  /** connections through the ISP, absent or null when not counted */
  c?: number | null;
}
export type SampleData = Record<string, SampleIsp>;

export interface Sample {
  id: number;
  gatewayId: string;
  /** ms since the epoch */
  at: number;
  isps: SampleData;
}

/** One chart point: a gateway's ISP over one bucket. */
export interface Point {
  /** start of the bucket, ms */
  t: number;
  lossPct: number | null;
  rttMs: number | null;
  /** the worst state seen in the bucket */
  state: LinkState;
}

const SEVERITY: Record<LinkState, number> = { unknown: 0, up: 1, degraded: 2, down: 3 };

const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** series[ispId][gatewayId] = points in time order, one per bucket that has samples. */
export type Series = Record<string, Record<string, Point[]>>;

export function bucketSamples(samples: readonly Sample[], bucketMs: number): Series {
  const acc = new Map<string, { loss: number[]; rtt: number[]; state: LinkState }>();
  for (const s of samples) {
    const t = Math.floor(s.at / bucketMs) * bucketMs;
    for (const [ispId, v] of Object.entries(s.isps)) {
      const key = `${ispId}\u0000${s.gatewayId}\u0000${t}`;
      let b = acc.get(key);
      if (b === undefined) {
        b = { loss: [], rtt: [], state: "unknown" };
        acc.set(key, b);
      }
      if (v.l !== null) b.loss.push(v.l);
      if (v.r !== null) b.rtt.push(v.r);
      if (SEVERITY[v.s] > SEVERITY[b.state]) b.state = v.s;
    }
  }
  const series: Series = {};
  for (const [key, b] of acc) {
    const [ispId, gatewayId, t] = key.split("\u0000") as [string, string, string];
    series[ispId] ??= {};
    const byGateway = series[ispId];
    byGateway[gatewayId] ??= [];
    byGateway[gatewayId].push({ t: Number(t), lossPct: mean(b.loss), rttMs: mean(b.rtt), state: b.state });
  }
  for (const byGateway of Object.values(series)) {
    for (const points of Object.values(byGateway)) points.sort((a, b) => a.t - b.t);
  }
  return series;
}

/**
 * One sample per gateway per bucket (loss and latency averaged, the worst state and the last
 * failover kept): the history of the last minutes sent to a browser in a fraction of the rows.
 */
export function downsample(samples: readonly Sample[], bucketMs: number): Sample[] {
  interface Acc {
    loss: number[];
    rtt: number[];
    state: LinkState;
    f: string | null;
  }
  const rows = new Map<string, { id: number; gatewayId: string; at: number; isps: Map<string, Acc> }>();
  for (const s of [...samples].sort((a, b) => a.id - b.id)) {
    const at = Math.floor(s.at / bucketMs) * bucketMs;
    const key = `${s.gatewayId}\u0000${at}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { id: s.id, gatewayId: s.gatewayId, at, isps: new Map() };
      rows.set(key, row);
    }
    row.id = Math.max(row.id, s.id);
    for (const [ispId, v] of Object.entries(s.isps)) {
      let a = row.isps.get(ispId);
      if (a === undefined) {
        a = { loss: [], rtt: [], state: "unknown", f: null };
        row.isps.set(ispId, a);
      }
      if (v.l !== null) a.loss.push(v.l);
      if (v.r !== null) a.rtt.push(v.r);
      if (SEVERITY[v.s] > SEVERITY[a.state]) a.state = v.s;
      a.f = v.f;
    }
  }
  return [...rows.values()]
    .map((r) => ({
      id: r.id,
      gatewayId: r.gatewayId,
      at: r.at,
      isps: Object.fromEntries(
        [...r.isps].map(([ispId, a]) => [ispId, { s: a.state, l: mean(a.loss), r: mean(a.rtt), f: a.f }]),
      ),
    }))
    .sort((a, b) => a.at - b.at || a.id - b.id);
}

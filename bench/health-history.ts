/**
 * Health history benchmark: what folding every health report into the minute and hour rollups
 * costs per report, and how long each chart range takes to read once the tables hold their full
 * retention (7 days of minute rows, 90 days of hour rows) for 4 gateways with 2 ISPs each.
 *
 *   npm run bench:health-history                  (SQLite; BENCH_DB=postgresql for the test PostgreSQL)
 *
 * The last line is machine-readable:
 *
 *   RESULT report_ms_p50=<ms per report, rollups included> report_ms_p99=<..> rows_90d=<rows read> range_90d_ms=<ms> range_7d_ms=<ms> range_24h_ms=<ms> range_6h_ms=<ms>
 */
import { RESOLUTIONS } from "../core/health/rollup";
import { createDb } from "../server/db/client";
import { migrate } from "../server/db/migrate";
import { recordHealthReport } from "../server/services/failover/health-report";
import { healthHistoryRange } from "../server/services/failover/history";
import { freshStore } from "../testkit/server/databases";
import { healthReport, ispHealth, makeFailoverCluster } from "../testkit/server/failover";
import { makeUser, META } from "../testkit/server/gateways";

const GATEWAYS = 4;
const REPORTS = Number(process.env.BENCH_REPORTS ?? 400);
const provider = process.env.BENCH_DB === "postgresql" ? "postgresql" : "sqlite";

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

async function main() {
  const store = await freshStore(provider);
  await migrate(store.url);
  const db = createDb(store.url);
  try {
    const operator = await makeUser(db, "bench", "operator");
    const c = await makeFailoverCluster(db, operator, { name: "bench", gateways: GATEWAYS });
    const now = Date.now();

    // full retention: minute rows for 7 days, hour rows for 90 days, per gateway and ISP
    const rows = [];
    for (const g of c.gateways) {
      for (const ispId of [c.ispA, c.ispB]) {
        for (const resolution of ["minute", "hour"] as const) {
          const { bucketMs, keepMs } = RESOLUTIONS[resolution];
          for (let t = now - keepMs; t < now; t += bucketMs) {
            const at = new Date(Math.floor(t / bucketMs) * bucketMs);
            const n = bucketMs / 1000;
            rows.push({
              clusterId: c.clusterId,
              gatewayId: g.id,
              ispId,
              resolution,
              at,
              n,
              up: n,
              lossN: n,
              rttN: n,
              rttSum: n * 2,
              rttMin: 1,
              rttMax: 9,
              lossMax: 0,
              connN: n,
              connSum: n * 40,
              connMax: 60,
            });
          }
        }
      }
    }
    for (let i = 0; i < rows.length; i += 5_000) await db.healthRollup.createMany({ data: rows.slice(i, i + 5_000) });

    // reports as agents send them: one a second per gateway, each folded into 2 ISPs x 2 resolutions
    const times: number[] = [];
    for (let i = 0; i < REPORTS; i++) {
      const g = c.gateways[i % GATEWAYS] ?? c.gateways[0];
      if (g === undefined) throw new Error("no gateway");
      const report = healthReport({ isps: [ispHealth(c.ispA, { rttMs: i % 7 }), ispHealth(c.ispB)] });
      const t0 = performance.now();
      await recordHealthReport(db, META, g.token, report, new Date(now + Math.floor(i / GATEWAYS) * 1000));
      times.push(performance.now() - t0);
    }

    const ranges: Record<string, number> = {};
    let rows90 = 0;
    for (const range of ["6h", "24h", "7d", "90d"] as const) {
      const t0 = performance.now();
      const r = await healthHistoryRange(db, c.clusterId, range, new Date(now + REPORTS * 1000));
      ranges[range] = performance.now() - t0;
      const points = Object.values(r.series)
        .flatMap((byGw) => Object.values(byGw))
        .reduce((s, p) => s + p.length, 0);
      console.log(`${range}: ${ranges[range]?.toFixed(1)} ms, ${points} points`);
      if (range === "90d")
        rows90 = await db.healthRollup.count({ where: { clusterId: c.clusterId, resolution: "hour" } });
    }
    console.log(`${provider}: ${rows.length} rollup rows seeded, ${REPORTS} reports`);
    const f = (x: number | undefined) => (x ?? 0).toFixed(2);
    console.log(
      `RESULT report_ms_p50=${f(quantile(times, 0.5))} report_ms_p99=${f(quantile(times, 0.99))} rows_90d=${rows90} range_90d_ms=${f(ranges["90d"])} range_7d_ms=${f(ranges["7d"])} range_24h_ms=${f(ranges["24h"])} range_6h_ms=${f(ranges["6h"])}`,
    );
  } finally {
    await db.$disconnect();
    await store.drop();
  }
}

await main();

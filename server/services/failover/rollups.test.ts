import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOLUTIONS } from "../../../core/health/rollup";
import type { Db } from "../../db/client";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, errorOf, failureOf } from "../../../testkit/server/api";
import { AppError } from "../../errors";
import { makeUser, META } from "../../../testkit/server/gateways";
import { type FailoverCluster, healthReport, ispHealth, makeFailoverCluster } from "../../../testkit/server/failover";
import { recordHealthReport } from "./health-report";
import { healthHistoryRange } from "./history";
import { PRUNE_BATCH, pruneRollups } from "./rollups";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** a fixed hour boundary, so buckets are known */
const T0 = Date.UTC(2026, 11, 1, 10);

describe.each(PROVIDERS)("health rollups on %s", (provider) => {
  let h: ApiHarness;
  let db: Db;
  let c: FailoverCluster;
  let n = 0;

  beforeAll(async () => {
    h = await apiHarness(provider);
    db = h.db;
  });
  afterAll(async () => {
    await h?.close();
  });

  const fresh = async () => {
    const operator = await makeUser(db, `op${++n}`, "operator");
    c = await makeFailoverCluster(db, operator, { name: `edge-${n}` });
    return c;
  };
  const report = (gw: { token: string }, at: number, a: Parameters<typeof ispHealth>[1] = {}) =>
    recordHealthReport(
      db,
      META,
      gw.token,
      healthReport({ isps: [ispHealth(c.ispA, a), ispHealth(c.ispB)] }),
      new Date(at),
    );
  const rows = (gatewayId: string, resolution: string) =>
    db.healthRollup.findMany({ where: { gatewayId, resolution }, orderBy: [{ at: "asc" }, { ispId: "asc" }] });

  it("folds each report into its minute and hour rows per ISP, a boundary opening the next bucket", async () => {
    await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    await report(gw, T0, { lossPct: 0, rttMs: 10, connections: 4 });
    await report(gw, T0 + 30_000, { state: "down", lossPct: 100, rttMs: null, connections: 2 });
    await report(gw, T0 + MIN - 1, { lossPct: 20, rttMs: 30, connections: null });
    await report(gw, T0 + MIN, { lossPct: 0, rttMs: 5 });
    const minuteA = (await rows(gw.id, "minute")).filter((r) => r.ispId === c.ispA);
    expect(
      minuteA.map((r) => [r.at.getTime() - T0, r.n, r.up, r.down, r.lossSum, r.lossMax, r.rttMin, r.rttMax]),
    ).toEqual([
      [0, 3, 2, 1, 120, 100, 10, 30],
      [MIN, 1, 1, 0, 0, 0, 5, 5],
    ]);
    expect(minuteA[0]).toMatchObject({ connN: 2, connSum: 6, connMax: 4, clusterId: c.clusterId });
    const hour = await rows(gw.id, "hour");
    expect(hour.map((r) => [r.ispId, r.at.getTime() - T0, r.n]).sort()).toEqual(
      [
        [c.ispA, 0, 4],
        [c.ispB, 0, 4],
      ].sort(),
    );
  });

  it("keeps each second's sample a report carries, placed by its distance to the report, and folds each", async () => {
    await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    // the agent's clock is 7 minutes off the console's: only the distances count
    const agentNow = T0 + MIN - 7 * MIN;
    const second = (i: number) => ({
      at: new Date(agentNow - (4 - i) * 1_000).toISOString(),
      isps: [
        { ispId: c.ispA, state: "up" as const, lossPct: 0, rttMs: 10 + i, connections: i, backupIspId: null },
        { ispId: c.ispB, state: "up" as const, lossPct: 0, rttMs: 1, connections: null, backupIspId: null },
      ],
    });
    // four samples, the last of them 1 s before the report; then the report (the fifth second)
    await recordHealthReport(
      db,
      META,
      gw.token,
      healthReport({
        at: new Date(agentNow).toISOString(),
        isps: [ispHealth(c.ispA, { rttMs: 20, connections: 9 }), ispHealth(c.ispB)],
        samples: [0, 1, 2, 3].map(second),
      }),
      new Date(T0 + 30_000),
    );
    const kept = await db.healthSample.findMany({ where: { gatewayId: gw.id }, orderBy: { at: "asc" } });
    expect(kept.map((r) => r.at.getTime() - T0)).toEqual([26_000, 27_000, 28_000, 29_000, 30_000]);
    expect(kept.map((r) => (JSON.parse(r.data) as Record<string, { r: number }>)[c.ispA]?.r)).toEqual([
      10, 11, 12, 13, 20,
    ]);
    const minuteA = (await rows(gw.id, "minute")).filter((r) => r.ispId === c.ispA);
    expect(minuteA).toHaveLength(1);
    expect(minuteA[0]).toMatchObject({ n: 5, rttN: 5, rttSum: 66, rttMin: 10, rttMax: 20, connMax: 9 });
  });

  it("refuses a report whose sample is later than the report, or names an ISP of another cluster, writing nothing", async () => {
    await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    const at = new Date(T0).toISOString();
    const sample = (when: number, ispId: string) => ({
      at: new Date(when).toISOString(),
      isps: [{ ispId, state: "up" as const, lossPct: 0, rttMs: 1, connections: null, backupIspId: null }],
    });
    const refused = async (samples: ReturnType<typeof sample>[]) =>
      failureOf(
        recordHealthReport(db, META, gw.token, healthReport({ at, isps: [ispHealth(c.ispA)], samples }), new Date(T0)),
        AppError,
      );
    expect((await refused([sample(T0 - 1_000, c.ispA), sample(T0 + 1_000, c.ispA)])).message).toMatch(
      /^samples\.1\.at: a sample cannot be later than its report/,
    );
    const other = await makeFailoverCluster(db, await makeUser(db, `op${++n}`, "operator"), { name: `other-${n}` });
    expect((await refused([sample(T0 - 1_000, other.ispA)])).message).toMatch(
      /^samples\.0\.isps\.0\.ispId: ISP ".+" is not an ISP of this gateway's cluster/,
    );
    expect(await db.healthSample.count({ where: { gatewayId: gw.id } })).toBe(0);
  });

  it("counts every one of concurrent reports of one gateway once", async () => {
    await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    await Promise.all(Array.from({ length: 12 }, (_, i) => report(gw, T0 + 1_000 * i, { rttMs: i })));
    const minute = (await rows(gw.id, "minute")).filter((r) => r.ispId === c.ispA);
    expect(minute).toHaveLength(1);
    expect(minute[0]).toMatchObject({ n: 12, rttN: 12, rttSum: 66, rttMin: 0, rttMax: 11 });
  });

  it("deletes rows past their retention in batches, and only that gateway's", async () => {
    await fresh();
    const [gw1, gw2] = c.gateways as [FailoverCluster["gateways"][0], FailoverCluster["gateways"][0]];
    const now = T0 + 10 * DAY;
    const old = (gatewayId: string, i: number) => ({
      clusterId: c.clusterId,
      gatewayId,
      ispId: c.ispA,
      resolution: "minute",
      at: new Date(now - RESOLUTIONS.minute.keepMs - (i + 1) * MIN),
      n: 1,
    });
    await db.healthRollup.createMany({ data: Array.from({ length: PRUNE_BATCH + 20 }, (_, i) => old(gw1.id, i)) });
    await db.healthRollup.createMany({ data: [old(gw2.id, 0)] });
    // a report opening a new minute prunes one batch
    await report(gw1, now);
    expect(await db.healthRollup.count({ where: { gatewayId: gw1.id, resolution: "minute" } })).toBe(20 + 2);
    expect(await pruneRollups(db, gw1.id, "minute", new Date(now))).toBe(20);
    expect(await db.healthRollup.count({ where: { gatewayId: gw2.id } })).toBe(1);
    // hour rows are kept 90 days: a 10-day-old hour stays
    await db.healthRollup.create({ data: { ...old(gw1.id, 0), resolution: "hour", at: new Date(now - 10 * DAY) } });
    expect(await pruneRollups(db, gw1.id, "hour", new Date(now))).toBe(0);
  });

  it("answers a range from the resolution its plan names, regrouped, with gaps left open", async () => {
    await fresh();
    const [gw1, gw2] = c.gateways as [FailoverCluster["gateways"][0], FailoverCluster["gateways"][0]];
    for (let m = 0; m < 10; m++) if (m < 3 || m > 6) await report(gw1, T0 + m * MIN, { lossPct: m, rttMs: 10 });
    await report(gw2, T0 + 2 * HOUR, { state: "down", lossPct: 100, rttMs: null, failover: null });
    const now = new Date(T0 + 3 * HOUR);
    const day = await healthHistoryRange(db, c.clusterId, "24h", now);
    expect(day).toMatchObject({ resolution: "minute", bucketMs: 5 * MIN, to: now.getTime() });
    expect(day.series[c.ispA]?.[gw1.id]?.map((p) => [p.t - T0, p.samples, p.lossPct])).toEqual([
      [0, 3, 1],
      [5 * MIN, 3, 8],
    ]);
    expect(day.series[c.ispA]?.[gw2.id]?.map((p) => [p.t - T0, p.state, p.upFraction])).toEqual([
      [2 * HOUR, "down", 0],
    ]);
    const week = await healthHistoryRange(db, c.clusterId, "7d", now);
    expect(week.series[c.ispA]?.[gw1.id]?.map((p) => [p.t - T0, p.samples, p.upFraction])).toEqual([[0, 6, 1]]);
    // a range that starts after the data has none
    const later = await healthHistoryRange(db, c.clusterId, "6h", new Date(T0 + 30 * DAY));
    expect(later.series).toEqual({});
  });

  it("serves ranges and the picture to viewers, and refuses a range it does not offer by name", async () => {
    await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    await report(gw, Date.now(), { state: "down", failover: null });
    const viewer = h.as("viewer");
    const range = await viewer.failover.historyRange({ clusterId: c.clusterId, range: "6h" });
    expect(range.series[c.ispA]?.[gw.id]?.at(-1)?.state).toBe("down");
    const bad = await errorOf(viewer.failover.historyRange({ clusterId: c.clusterId, range: "1y" as "6h" }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("range");
    const topology = await viewer.failover.topology({ clusterId: c.clusterId });
    expect(topology.isps.map((i) => i.name)).toEqual(["isp-a", "isp-b"]);
    expect(topology.isps[0]?.links.find((l) => l.gatewayId === gw.id)?.state).toBe("down");
    expect(topology.isps[0]?.pools).toEqual([{ id: c.poolA, name: "pool-a", addresses: 4, fill: null }]);
    expect((await errorOf(viewer.failover.topology({ clusterId: "nope" }))).code).toBe("NOT_FOUND");
  });
});

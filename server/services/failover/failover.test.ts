import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../audit/verify";
import { waitForDesiredSpec } from "../gateways/desired";
import { type GatewayTestDb, gatewayTestDb, makeUser, META } from "../../../testkit/server/gateways";
import { failoverIsp, restoreIsp } from "./actions";
import { loadClusterFailover } from "./cluster-state";
import { recordHealthReport, SAMPLE_RETENTION_MS } from "./health-report";
import { handleHealth } from "../../http/agent-health";
import { healthHistory } from "./history";
import { failoverImpact } from "./impact";
import { healthOverview } from "./overview";
import { completeDueOperations, listOperations, OPERATION_TIMEOUT_MS } from "./progress";
import { type FailoverCluster, healthReport, ispHealth, makeFailoverCluster } from "../../../testkit/server/failover";

let t: GatewayTestDb;
let operator: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  t = await gatewayTestDb();
  operator = await makeUser(t.db, "olga", "operator");
});
afterAll(async () => {
  await t?.close();
});

let n = 0;
const fresh = (opts: Parameters<typeof makeFailoverCluster>[2] = {}) =>
  makeFailoverCluster(t.db, operator, { name: `edge-${++n}`, ...opts });

/** Every gateway of the cluster reports both ISPs with the given states. */
async function reportAll(c: FailoverCluster, states: { a?: "up" | "down"; b?: "up" | "down" } = {}, at = new Date()) {
  for (const g of c.gateways) {
    await recordHealthReport(
      t.db,
      META,
      g.token,
      healthReport({
        isps: [ispHealth(c.ispA, { state: states.a ?? "up" }), ispHealth(c.ispB, { state: states.b ?? "up" })],
      }),
      at,
    );
  }
}

const auditOf = (clusterId: string, action: string) =>
  t.db.auditEvent.findMany({ where: { clusterId, action }, orderBy: { seq: "asc" } });

/** An automatic failover of ISP a to ISP b as a gateway reports it. */
const switchEvent = (id: string, c: FailoverCluster) => ({
  id,
  kind: "failover" as const,
  ispId: c.ispA,
  ispName: "isp-a",
  fromIspId: null,
  toIspId: c.ispB,
  mode: "automatic" as const,
  reason: "2 probe rounds lost in a row",
  at: new Date().toISOString(),
  revision: 1,
  failoverEpoch: 0,
  timings: null,
  ok: true,
  error: "",
});

describe("health reports", () => {
  it("keep the latest health per gateway and a sample for the charts, pruning samples past retention", async () => {
    const c = await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "" };
    const old = new Date(Date.now() - SAMPLE_RETENTION_MS - 60_000);
    await recordHealthReport(t.db, META, gw.token, healthReport({ isps: [ispHealth(c.ispA)] }), old);
    await recordHealthReport(
      t.db,
      META,
      gw.token,
      healthReport({ isps: [ispHealth(c.ispA, { state: "degraded", lossPct: 30, rttMs: 12.5 })] }),
    );
    const samples = await t.db.healthSample.findMany({ where: { gatewayId: gw.id } });
    expect(samples).toHaveLength(1);
    expect(JSON.parse(samples[0]?.data ?? "{}")).toEqual({
      [c.ispA]: { s: "degraded", l: 30, r: 12.5, f: null, c: 10 },
    });
    const view = await loadClusterFailover(t.db, c.clusterId);
    expect(view.gateways.find((g) => g.id === gw.id)?.isps[c.ispA]).toMatchObject({ state: "degraded", rttMs: 12.5 });
    const history = await healthHistory(t.db, c.clusterId);
    expect(history.samples).toHaveLength(1);
    expect(history.cursor).toBe(samples[0]?.id);
  });

  it("show, per gateway, the on-link addresses the ISP router asks for and nobody answers", async () => {
    const c = await fresh();
    const [gw1, gw2] = c.gateways as [FailoverCluster["gateways"][0], FailoverCluster["gateways"][0]];
    await recordHealthReport(
      t.db,
      META,
      gw1.token,
      healthReport({ isps: [ispHealth(c.ispA, { unansweredArp: ["198.51.100.10"] }), ispHealth(c.ispB)] }),
    );
    await recordHealthReport(t.db, META, gw2.token, healthReport({ isps: [ispHealth(c.ispA), ispHealth(c.ispB)] }));
    const overview = await healthOverview(t.db, c.clusterId);
    const cardA = overview.isps.find((i) => i.id === c.ispA);
    expect(cardA?.gateways.map((g) => [g.gatewayName, g.unansweredArp])).toEqual([
      ["gw1", ["198.51.100.10"]],
      ["gw2", []],
    ]);
  });

  it("record each automatic switch as an audit event by the gateway, once however often it is resent", async () => {
    const c = await fresh({ automatic: true });
    const gw = c.gateways[0] ?? { id: "", name: "", token: "" };
    const event = {
      ...switchEvent("0d7c2b7e-7f4e-4a7e-9e4e-2a1f5d3c9b10", c),
      timings: { detectMs: 180, applyMs: 21.5, flushMs: 9.1, switchMs: 31, flushed: 4 },
    };
    const adminEvent = { ...event, id: "a1", mode: "admin" as const };
    for (let i = 0; i < 3; i++) {
      const ack = await recordHealthReport(t.db, META, gw.token, healthReport({ events: [event, adminEvent] }));
      expect(ack.recorded).toEqual([event.id, "a1"]);
    }
    const events = await auditOf(c.clusterId, "isp.failover");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: "agent", actorName: gw.name, targetType: "isp", targetId: c.ispA });
    expect(JSON.parse(events[0]?.after ?? "{}")).toMatchObject({
      gateway: gw.name,
      mode: "automatic",
      to: c.ispB,
      reason: "2 probe rounds lost in a row",
      timings: { detectMs: 180, switchMs: 31, flushed: 4 },
    });
    expect((await verifyAuditChain(t.db)).intact).toBe(true);
  });
});

describe("failover events from gateways", () => {
  it("are de-duplicated per reporting gateway: another gateway knowing the id does not stop the event", async () => {
    const c = await fresh({ automatic: true });
    const [gw1, gw2] = c.gateways;
    if (!gw1 || !gw2) throw new Error("two gateways expected");
    const id = "5b1d7c2e-0000-4000-8000-000000000001";
    // gw2 reports first with gw1's event id (it guessed or saw it)
    await recordHealthReport(t.db, META, gw2.token, healthReport({ events: [switchEvent(id, c)] }));
    await recordHealthReport(t.db, META, gw1.token, healthReport({ events: [switchEvent(id, c)] }));
    await recordHealthReport(t.db, META, gw1.token, healthReport({ events: [switchEvent(id, c)] }));
    const events = await auditOf(c.clusterId, "isp.failover");
    expect(events.map((e) => e.actorId).sort()).toEqual([gw1.id, gw2.id].sort());
  });

  it("naming an ISP of another cluster are refused, naming the field, and nothing is written", async () => {
    const mine = await fresh({ automatic: true });
    const theirs = await fresh({ automatic: true });
    const gw = mine.gateways[0] ?? { id: "", token: "" };
    const counts = async () => ({
      audit: await t.db.auditEvent.count(),
      samples: await t.db.healthSample.count({ where: { gatewayId: gw.id } }),
    });
    const before = await counts();
    const foreignEvent = switchEvent("5b1d7c2e-0000-4000-8000-000000000002", theirs);
    await expect(
      recordHealthReport(t.db, META, gw.token, healthReport({ events: [foreignEvent] })),
    ).rejects.toMatchObject({
      code: "INVALID",
      message: expect.stringMatching(/^events\.0\.ispId: ISP ".*" is not an ISP of this gateway's cluster/),
    });
    await expect(
      recordHealthReport(
        t.db,
        META,
        gw.token,
        healthReport({
          isps: [
            ispHealth(mine.ispA),
            ispHealth(mine.ispB, {
              failover: { backupIspId: theirs.ispB, mode: "automatic", since: new Date().toISOString() },
            }),
          ],
        }),
      ),
    ).rejects.toMatchObject({ message: expect.stringMatching(/^isps\.1\.failover\.backupIspId: /) });
    await expect(
      recordHealthReport(t.db, META, gw.token, healthReport({ isps: [ispHealth("cnotanispatall000000000")] })),
    ).rejects.toMatchObject({ message: expect.stringMatching(/^isps\.0\.ispId: /) });
    expect(await counts()).toEqual(before);
    // through the agent API: 400 with the same message
    const res = await handleHealth(
      t.db,
      new Request("http://c/api/agent/v1/health", {
        method: "POST",
        headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" },
        body: JSON.stringify(healthReport({ events: [foreignEvent] })),
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^events\.0\.ispId: /);
    // its own ISPs, even one gone from the draft that a published revision still names, are fine
    await t.db.isp.delete({ where: { id: mine.ispB } });
    await recordHealthReport(
      t.db,
      META,
      gw.token,
      healthReport({ isps: [ispHealth(mine.ispA), ispHealth(mine.ispB)] }),
    );
    expect((await counts()).samples).toBe(before.samples + 1);
  });
});

describe("operator failover", () => {
  it("previews the rules and pools that move, the backup and the connections that will be cut", async () => {
    const c = await fresh();
    await reportAll(c);
    const impact = failoverImpact(await loadClusterFailover(t.db, c.clusterId), { ispId: c.ispA, action: "failover" });
    expect(impact.blocked).toBeNull();
    expect(impact.backupToUse).toEqual({ id: c.ispB, name: "isp-b" });
    // "office via A" moves from pool-a on isp-a to isp-b's default pool; "lab via B" only ever uses isp-b
    expect(impact.rules.map((r) => [r.comment, r.before, r.after])).toEqual([
      [
        "office via A",
        [{ ispId: c.ispA, ispName: "isp-a", poolId: c.poolA, poolName: "pool-a" }],
        [{ ispId: c.ispB, ispName: "isp-b", poolId: c.poolB, poolName: "pool-b" }],
      ],
    ]);
    expect(impact.pools).toEqual([{ from: "pool-a (isp-a)", to: "pool-b (isp-b)", rules: 1 }]);
    expect(impact.connections).toBe(20);
  });

  it("refuses a failover when the backup is down on every gateway: nothing changes", async () => {
    const c = await fresh();
    await reportAll(c, { b: "down" });
    const before = await t.db.cluster.findUniqueOrThrow({ where: { id: c.clusterId } });
    await expect(
      failoverIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA, backupIspId: null }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/No backup of isp-a is healthy \(isp-b: down\)/),
    });
    const after = await t.db.cluster.findUniqueOrThrow({ where: { id: c.clusterId } });
    expect(after.failoverEpoch).toBe(before.failoverEpoch);
  });

  it("goes ahead when the backup is down on some gateways only, and says which", async () => {
    const c = await fresh();
    await reportAll(c);
    await recordHealthReport(
      t.db,
      META,
      c.gateways[1]?.token ?? "",
      healthReport({ isps: [ispHealth(c.ispA), ispHealth(c.ispB, { state: "down" })] }),
    );
    const impact = failoverImpact(await loadClusterFailover(t.db, c.clusterId), { ispId: c.ispA, action: "failover" });
    expect(impact.blocked).toBeNull();
    expect(impact.backupToUse?.name).toBe("isp-b");
    expect(impact.warnings).toEqual([
      "isp-b is down on gw2: those gateways use the next healthy backup or keep their traffic.",
    ]);
  });

  it("writes the failover state, bumps the epoch, wakes waiting gateways and tracks each one until all applied", async () => {
    const c = await fresh();
    await reportAll(c);
    const gw1 = c.gateways[0] ?? { token: "", id: "" };
    const waiting = waitForDesiredSpec(
      t.db,
      gw1.token,
      { revision: 1, failoverEpoch: 0 },
      {
        timeoutMs: 10_000,
        recheckMs: 10_000,
      },
    );
    const clickedAt = Date.now();
    const r = await failoverIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA, backupIspId: null });
    const spec = await waiting;
    expect(Date.now() - clickedAt).toBeLessThan(1000);
    expect(spec?.failoverEpoch).toBe(1);
    expect(spec?.isps.find((i) => i.id === c.ispA)).toMatchObject({
      adminState: "failed_over",
      adminBackupIspId: null,
    });
    expect(await t.db.failoverState.findUnique({ where: { ispId: c.ispA } })).toMatchObject({
      adminState: "failed_over",
      changedBy: "olga",
    });
    const clicked = await auditOf(c.clusterId, "isp.failover");
    expect(clicked).toHaveLength(1);
    expect(clicked[0]).toMatchObject({ actorType: "user", actorName: "olga" });
    expect(JSON.parse(clicked[0]?.after ?? "{}")).toMatchObject({
      mode: "manual",
      backup: "isp-b",
      failoverEpoch: 1,
      operationId: r.operationId,
      gateways: ["gw1", "gw2"],
    });

    // gateway 1 applies at once, gateway 2 a little later
    const running = { revision: 1, failoverEpoch: 1 };
    const lastLoad = { ...running, at: new Date().toISOString(), ms: 24 };
    await recordHealthReport(t.db, META, gw1.token, healthReport({ running, lastLoad }));
    let op = (await listOperations(t.db, c.clusterId))[0];
    expect(op?.outcome).toBe("");
    expect(op?.gateways.map((g) => [g.name, g.appliedAt !== null, g.applyMs])).toEqual([
      ["gw1", true, 24],
      ["gw2", false, null],
    ]);
    await recordHealthReport(t.db, META, c.gateways[1]?.token ?? "", healthReport({ running, lastLoad }));
    op = (await listOperations(t.db, c.clusterId))[0];
    expect(op?.outcome).toBe("applied");
    expect(op?.allAppliedMs).not.toBeNull();
    const applied = await auditOf(c.clusterId, "isp.failover_applied");
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ actorType: "system" });
    expect(JSON.parse(applied[0]?.after ?? "{}")).toMatchObject({
      operationId: r.operationId,
      outcome: "applied",
      notApplied: [],
      gateways: [
        { name: "gw1", applyMs: 24 },
        { name: "gw2", applyMs: 24 },
      ],
    });

    // a second failover of the same ISP is refused
    await expect(
      failoverIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA, backupIspId: null }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: "isp-a is already failed over." });
  });

  it("closes an operation some gateway never applied once its deadline passed, naming that gateway", async () => {
    const c = await fresh();
    await reportAll(c);
    const r = await failoverIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA, backupIspId: c.ispB });
    await recordHealthReport(
      t.db,
      META,
      c.gateways[0]?.token ?? "",
      healthReport({ running: { revision: 1, failoverEpoch: r.failoverEpoch } }),
    );
    await completeDueOperations(t.db, c.clusterId, new Date(Date.now() + OPERATION_TIMEOUT_MS + 1000));
    const [op] = await listOperations(t.db, c.clusterId);
    expect(op?.outcome).toBe("timed_out");
    const events = await auditOf(c.clusterId, "isp.failover_applied");
    expect(JSON.parse(events[0]?.after ?? "{}")).toMatchObject({ outcome: "timed_out", notApplied: ["gw2"] });
  });

  it("restores an ISP: active again, with the restore epoch that releases failovers agents hold", async () => {
    const c = await fresh({ automatic: true });
    await expect(restoreIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA })).rejects.toMatchObject({
      code: "CONFLICT",
      message: "isp-a is not failed over.",
    });
    // a gateway holds isp-a failed over on its own (manual failback): restore is possible
    await recordHealthReport(
      t.db,
      META,
      c.gateways[0]?.token ?? "",
      healthReport({
        isps: [
          ispHealth(c.ispA, {
            held: true,
            failover: { backupIspId: c.ispB, mode: "automatic", since: new Date().toISOString() },
          }),
          ispHealth(c.ispB),
        ],
      }),
    );
    const overview = await healthOverview(t.db, c.clusterId);
    expect(overview.isps.find((i) => i.id === c.ispA)).toMatchObject({
      failedOverAnywhere: true,
      admin: { state: "active" },
    });
    const r = await restoreIsp(t.db, operator, META, { clusterId: c.clusterId, ispId: c.ispA });
    expect(await t.db.failoverState.findUnique({ where: { ispId: c.ispA } })).toMatchObject({
      adminState: "active",
      restoredEpoch: r.failoverEpoch,
    });
    const spec = await waitForDesiredSpec(t.db, c.gateways[0]?.token ?? "", null, { timeoutMs: 100, recheckMs: 50 });
    expect(spec?.isps.find((i) => i.id === c.ispA)?.restoredEpoch).toBe(r.failoverEpoch);
    expect((await auditOf(c.clusterId, "isp.restore"))[0]).toMatchObject({ actorName: "olga" });
  });
});

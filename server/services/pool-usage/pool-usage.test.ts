import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PoolAddressUsage, PoolUsageReport } from "../../../core/protocol/health-report";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";
import { type FailoverCluster, healthReport, makeFailoverCluster } from "../../../testkit/server/failover";
import { META } from "../../../testkit/server/gateways";
import { handleHealth } from "../../http/agent-health";
import { recordHealthReport } from "../failover/health-report";
import { onPoolUsageIncident, type PoolUsageIncidentEvent } from "./incidents";
import { USAGE_RETENTION_MS } from "./ingest";
import { listPoolUsage } from "./list";

/** A count of `connections` to one web server on the first address of pool a (a 100-port range). */
function usage(c: FailoverCluster, connections: number, at = new Date()): PoolUsageReport {
  const addresses: PoolAddressUsage[] = [
    {
      poolId: c.poolA,
      address: "198.51.100.10",
      ports: 100,
      tcp: connections,
      udp: 2,
      other: 1,
      busiest: connections === 0 ? null : { protocol: "tcp", destination: "203.0.113.10", port: 80, connections },
    },
    { poolId: c.poolA, address: "198.51.100.11", ports: 100, tcp: 0, udp: 0, other: 0, busiest: null },
  ];
  return {
    at: at.toISOString(),
    addresses,
    partial: false,
    conntrack: { count: 120, max: 1000, insertFailed: 3, drop: 1, earlyDrop: 0 },
  };
}

describe.each(PROVIDERS)("pool usage reports on %s", (provider) => {
  let h: ApiHarness;
  let n = 0;
  const fresh = () =>
    makeFailoverCluster(
      h.db,
      { type: "user", id: h.users.operator.id, name: "operator" },
      { name: `usage-${++n}`, gateways: 1 },
    );
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (token: string, body: unknown) =>
    handleHealth(
      h.db,
      new Request("http://c/api/agent/v1/health", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  const auditOf = (clusterId: string) =>
    h.db.auditEvent.findMany({
      where: { clusterId, action: { startsWith: "pool.usage_incident" } },
      orderBy: { seq: "asc" },
      select: { action: true, targetId: true, after: true },
    });

  it("stores the latest count, one sample per count, and records each warning and alert episode once", async () => {
    const c = await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "", name: "" };
    const events: PoolUsageIncidentEvent[] = [];
    const stop = onPoolUsageIncident((e) => events.push(e));
    try {
      const t0 = Date.now();
      const send = async (connections: number, s: number) => {
        const at = new Date(t0 + s * 1000);
        const report = healthReport({ poolUsage: usage(c, connections, at) });
        // the agent sends its last count with every report: twice here, stored once
        await recordHealthReport(h.db, META, gw.token, report, at);
        await recordHealthReport(h.db, META, gw.token, report, new Date(at.getTime() + 500));
      };
      await send(50, 0);
      expect(await auditOf(c.clusterId)).toEqual([]);
      await send(85, 20);
      await send(88, 40);
      await send(97, 60);
      await send(98, 80);
      let list = await h.as("viewer").poolUsage.list({ clusterId: c.clusterId });
      const pool = list.pools.find((p) => p.poolId === c.poolA);
      expect(pool).toMatchObject({ name: "pool-a", level: "alert", pct: 98 });
      expect(pool?.addresses.map((a) => [a.address, a.level, a.pct])).toEqual([
        ["198.51.100.10", "alert", 98],
        ["198.51.100.11", "ok", 0],
      ]);
      expect(pool?.forecastText).toBe("full in under a minute at the current growth");
      expect(list.conntrack).toEqual([
        expect.objectContaining({ gatewayName: "gw1", count: 120, max: 1000, pct: 12, insertFailed: 3, drop: 1 }),
      ]);
      expect(list.incidents.map((i) => [i.level, i.address, i.gatewayName])).toEqual([
        ["alert", "198.51.100.10", "gw1"],
      ]);
      expect(list.incidents[0]?.text).toMatch(
        /^Port usage alert: pool "pool-a" address 198.51.100.10 on gateway "gw1"/,
      );
      expect(await h.db.usageSample.count({ where: { gatewayId: gw.id } })).toBe(5);
      // the cluster picture draws the same fill on the pool
      const picture = await h.as("viewer").failover.topology({ clusterId: c.clusterId });
      const drawn = picture.isps.flatMap((i) => i.pools).find((p) => p.id === c.poolA);
      expect(drawn?.fill).toBeCloseTo(0.98, 5);

      // back down: the alert holds to 90%, then both are over
      await send(91, 100);
      expect((await auditOf(c.clusterId)).length).toBe(3);
      await send(10, 120);
      const audit = await auditOf(c.clusterId);
      expect(audit.map((a) => [a.action, (JSON.parse(a.after ?? "{}") as { level: string }).level])).toEqual([
        ["pool.usage_incident", "warning"],
        ["pool.usage_incident_resolved", "warning"],
        ["pool.usage_incident", "alert"],
        ["pool.usage_incident_resolved", "alert"],
      ]);
      expect(audit.every((a) => a.targetId === c.poolA)).toBe(true);
      expect(events.map((e) => `${e.state} ${e.incident.level} ${e.poolName}`)).toEqual([
        "opened warning pool-a",
        "resolved warning pool-a",
        "opened alert pool-a",
        "resolved alert pool-a",
      ]);
      list = await h.as("viewer").poolUsage.list({ clusterId: c.clusterId });
      expect(list.incidents).toEqual([]);
      expect(list.pools.find((p) => p.poolId === c.poolA)?.level).toBe("ok");

      // an offline gateway's open incident is not shown: its counts are stale
      await send(97, 140);
      const later = new Date(Date.now() + 10 * 60_000);
      expect((await listPoolUsage(h.db, c.clusterId, later)).incidents).toEqual([]);
      expect((await listPoolUsage(h.db, c.clusterId)).incidents.map((i) => i.level)).toEqual(["alert"]);
      await send(10, 160);

      // samples past retention are pruned by the next count
      await send(10, USAGE_RETENTION_MS / 1000 + 200);
      expect(await h.db.usageSample.count({ where: { gatewayId: gw.id } })).toBe(1);
    } finally {
      stop();
    }
  });

  it("refuses bad pool usage at the agent API, naming the field, and writes nothing", async () => {
    const c = await fresh();
    const other = await fresh();
    const gw = c.gateways[0] ?? { id: "", token: "", name: "" };
    const counts = async () => ({
      samples: await h.db.usageSample.count(),
      audit: await h.db.auditEvent.count(),
      health: (await h.db.gateway.findUniqueOrThrow({ where: { id: gw.id }, select: { poolUsage: true } })).poolUsage,
    });
    const before = await counts();
    const good = usage(c, 99);
    const cases: Array<[unknown, RegExp]> = [
      // another cluster's pool
      [{ ...good, addresses: [{ ...good.addresses[0], poolId: other.poolA }] }, /^poolUsage\.addresses\.0\.poolId: /],
      // one address twice
      [{ ...good, addresses: [good.addresses[0], good.addresses[0]] }, /^poolUsage\.addresses\.1\.address: .*twice/],
      [{ ...good, addresses: [{ ...good.addresses[0], ports: 0 }] }, /poolUsage\.addresses\.0\.ports/],
      [
        { ...good, addresses: [{ ...good.addresses[0], address: "198.51.100.300" }] },
        /poolUsage\.addresses\.0\.address/,
      ],
      [{ ...good, addresses: [{ ...good.addresses[0], tcp: -1 }] }, /poolUsage\.addresses\.0\.tcp/],
      [
        {
          ...good,
          addresses: [
            {
              ...good.addresses[0],
              busiest: { protocol: "icmp", destination: "203.0.113.1", port: 1, connections: 1 },
            },
          ],
        },
        /poolUsage\.addresses\.0\.busiest\.protocol/,
      ],
      [{ ...good, conntrack: { ...good.conntrack, insertFailed: "many" } }, /poolUsage\.conntrack\.insertFailed/],
      [{ ...good, addresses: Array.from({ length: 257 }, () => good.addresses[1]) }, /poolUsage\.addresses/],
    ];
    for (const [poolUsage, message] of cases) {
      const res = await post(gw.token, healthReport({ poolUsage: poolUsage as PoolUsageReport }));
      expect(res.status, JSON.stringify(poolUsage).slice(0, 200)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect(await counts()).toEqual(before);
    // an agent older than pool usage sends none: accepted, nothing about pools changes
    const { poolUsage: _, ...old } = healthReport();
    expect((await post(gw.token, old)).status).toBe(200);
    expect(await counts()).toEqual({ ...before, audit: before.audit });
    // the good one goes through and opens an alert
    expect((await post(gw.token, healthReport({ poolUsage: good }))).status).toBe(200);
    expect((await auditOf(c.clusterId)).map((a) => a.action)).toEqual(["pool.usage_incident"]);
  });
});

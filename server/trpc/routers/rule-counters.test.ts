import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../../core/protocol/agent-api";
import { zStatusReport } from "../../../core/protocol/agent-api";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META } from "../../../testkit/server/api";
import { enrollGateway } from "../../services/gateways/enroll";
import { recordAgentStatus } from "../../services/gateways/status";

/** Rule counters: agents report deltas, the console keeps totals per rule and gateway. */
describe.each(PROVIDERS)("rule counters on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let otherClusterId: string;
  const rules: Array<{ id: string; version: number }> = [];
  const tokens: string[] = [];
  let foreignRuleId: string;

  type Delta = Omit<NonNullable<StatusReport["ruleCounters"]>[number], "packets" | "bytes"> & {
    packets?: number;
    bytes?: number;
  };
  const report = (deltas?: Delta[]): StatusReport => {
    const ruleCounters = deltas?.map((d) => ({ packets: 0, bytes: 0, ...d }));
    return {
      agentVersion: "1.0.0",
      running: null,
      lastApply: null,
      facts: { hostname: "gw", kernel: "6.1", nftVersion: "1.0.6", interfaces: [] },
      ...(ruleCounters === undefined ? {} : { ruleCounters }),
    };
  };
  const counters = () => h.as("viewer").rule.counters({ clusterId });
  const of = async (ruleId: string) => (await counters()).rules.find((r) => r.ruleId === ruleId);

  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "counted", description: "" })).id;
    otherClusterId = (await op.cluster.create({ name: "elsewhere", description: "" })).id;
    for (const [cluster, n] of [
      [clusterId, 3],
      [otherClusterId, 1],
    ] as const) {
      const isp = await op.isp.create({
        clusterId: cluster,
        fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" },
      });
      const pool = await op.pool.create({
        clusterId: cluster,
        fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
      });
      for (let i = 0; i < n; i++) {
        const r = await op.rule.create({
          clusterId: cluster,
          fields: {
            source: { kind: "cidrs", cidrs: [`100.64.${i}.0/24`] },
            action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
          },
        });
        if (cluster === clusterId) rules.push({ id: r.entity.id, version: r.version });
        else foreignRuleId = r.entity.id;
      }
    }
    for (const name of ["gw-a", "gw-b"]) {
      const gw = await h.as("admin").gateway.create({ clusterId, name });
      tokens.push((await enrollGateway(h.db, TEST_META, gw.enrollToken, { agentVersion: "1.0.0" })).agentToken);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it("has nothing to say before any gateway reported counters", async () => {
    const c = await counters();
    expect(c.countingSince).toBeNull();
    expect(c.rules).toHaveLength(3);
    for (const r of c.rules) expect(r).toMatchObject({ connections: 0, lastHitAt: null, noMatchSince: null });
  });

  it("adds up the deltas of every gateway and keeps the latest hit", async () => {
    const [a, b] = rules as unknown as [{ id: string }, { id: string }];
    const [ta, tb] = tokens as [string, string];
    const t = (s: number) => new Date(Date.UTC(2026, 11, 5, 10, 0, s)).toISOString();
    const now = new Date(Date.UTC(2026, 11, 5, 10, 1, 0));
    await recordAgentStatus(h.db, TEST_META, ta, report([{ ruleId: a.id, connections: 5, lastHitAt: t(5) }]), now);
    await recordAgentStatus(h.db, TEST_META, ta, report([{ ruleId: a.id, connections: 2, lastHitAt: t(10) }]), now);
    await recordAgentStatus(h.db, TEST_META, tb, report([{ ruleId: a.id, connections: 4, lastHitAt: t(7) }]), now);
    const ra = await of(a.id);
    expect(ra?.connections).toBe(11);
    expect(ra?.lastHitAt?.toISOString()).toBe(t(10));
    expect(ra?.noMatchSince?.toISOString()).toBe(t(10));
    expect(ra?.gateways.map((g) => [g.gatewayName, g.connections])).toEqual([
      ["gw-a", 7],
      ["gw-b", 4],
    ]);
    // b counted nothing: no match since counting began, or since it was created if that is later
    const rb = await of(b.id);
    expect(rb?.connections).toBe(0);
    expect(rb?.noMatchSince).not.toBeNull();
    // an old report arriving late never moves the last hit back
    await recordAgentStatus(h.db, TEST_META, ta, report([{ ruleId: a.id, connections: 1, lastHitAt: t(1) }]), now);
    expect((await of(a.id))?.lastHitAt?.toISOString()).toBe(t(10));
    expect((await of(a.id))?.connections).toBe(12);
  });

  it("adds packets and bytes of open connections without moving the last hit", async () => {
    const [, b] = rules as unknown as [unknown, { id: string }];
    const [ta, tb] = tokens as [string, string];
    const now = new Date(Date.UTC(2026, 11, 5, 10, 2, 0));
    const hit = new Date(Date.UTC(2026, 11, 5, 10, 1, 30)).toISOString();
    const send = (token: string, connections: number, packets: number, bytes: number, lastHitAt: string | null) =>
      recordAgentStatus(
        h.db,
        TEST_META,
        token,
        report([{ ruleId: b.id, connections, packets, bytes, lastHitAt }]),
        now,
      );
    await send(ta, 1, 10, 4000, hit);
    // the download goes on: traffic only, from both gateways (one took over a synced connection)
    await send(ta, 0, 90, 120_000, null);
    await send(tb, 0, 5, 600, null);
    const rb = await of(b.id);
    expect(rb).toMatchObject({ connections: 1, packets: 105, bytes: 124_600 });
    expect(rb?.lastHitAt?.toISOString()).toBe(hit);
    expect(rb?.gateways.map((g) => [g.gatewayName, g.connections, g.packets, g.bytes])).toEqual([
      ["gw-a", 1, 100, 124_000],
      ["gw-b", 0, 5, 600],
    ]);
    // a gateway whose first report for the rule has traffic only: no hit yet
    const gwb = rb?.gateways.find((g) => g.gatewayName === "gw-b");
    expect(gwb?.lastHitAt).toBeNull();
  });

  it("takes a last hit from the agent's future as the console's now", async () => {
    const [, , c] = rules as unknown as [unknown, unknown, { id: string }];
    const now = new Date(Date.UTC(2026, 11, 5, 11, 0, 0));
    const future = new Date(Date.UTC(2030, 0, 1)).toISOString();
    await recordAgentStatus(
      h.db,
      TEST_META,
      tokens[0] as string,
      report([{ ruleId: c.id, connections: 1, lastHitAt: future }]),
      now,
    );
    expect((await of(c.id))?.lastHitAt?.toISOString()).toBe(now.toISOString());
  });

  it("drops deltas for rules the cluster does not have, without failing the report", async () => {
    const before = await h.db.ruleCounter.count();
    const ack = await recordAgentStatus(
      h.db,
      TEST_META,
      tokens[0] as string,
      report([
        { ruleId: "no-such-rule", connections: 3, lastHitAt: new Date().toISOString() },
        { ruleId: foreignRuleId, connections: 3, lastHitAt: new Date().toISOString() },
      ]),
    );
    expect(ack.ok).toBe(true);
    expect(await h.db.ruleCounter.count()).toBe(before);
  });

  it("refuses malformed deltas at the boundary, naming the field", () => {
    const bad = [
      [{ ruleId: "a b", connections: 1, lastHitAt: new Date().toISOString() }],
      [{ ruleId: "a", connections: 0, lastHitAt: new Date().toISOString() }],
      [{ ruleId: "a", connections: 0, packets: 0, bytes: 0, lastHitAt: null }],
      [{ ruleId: "a", connections: 2, packets: 9, bytes: 900, lastHitAt: null }],
      [{ ruleId: "a", connections: 0, packets: -1, bytes: 900, lastHitAt: null }],
      [{ ruleId: "a", connections: -4, lastHitAt: new Date().toISOString() }],
      [{ ruleId: "a", connections: 1.5, lastHitAt: new Date().toISOString() }],
      [{ ruleId: "a", connections: 1, lastHitAt: "yesterday" }],
      [
        { ruleId: "a", connections: 1, lastHitAt: new Date().toISOString() },
        { ruleId: "a", connections: 1, lastHitAt: new Date().toISOString() },
      ],
      Array.from({ length: 1001 }, (_, i) => ({
        ruleId: `r${i}`,
        connections: 1,
        lastHitAt: new Date().toISOString(),
      })),
    ];
    for (const ruleCounters of bad) {
      const r = zStatusReport.safeParse({ ...report(), ruleCounters });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path[0]).toBe("ruleCounters");
    }
  });

  it("concurrent reports from one gateway lose no delta", async () => {
    const [, b] = rules as unknown as [unknown, { id: string }];
    const before = (await of(b.id))?.connections ?? 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        recordAgentStatus(
          h.db,
          TEST_META,
          tokens[1] as string,
          report([{ ruleId: b.id, connections: 3, lastHitAt: new Date().toISOString() }]),
        ),
      ),
    );
    expect((await of(b.id))?.connections).toBe(before + 24);
  });

  it("a deleted rule takes its counters with it; a deleted gateway its own", async () => {
    const [a] = rules as unknown as [{ id: string; version: number }];
    const current = await h.as("viewer").rule.get({ clusterId, id: a.id });
    await h.as("operator").rule.delete({ clusterId, id: a.id, version: current.version });
    expect(await h.db.ruleCounter.count({ where: { ruleId: a.id } })).toBe(0);
    expect((await counters()).rules.map((r) => r.ruleId)).not.toContain(a.id);
  });
});

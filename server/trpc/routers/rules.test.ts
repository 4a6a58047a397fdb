import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, tableCounts } from "../../../testkit/server/api";

/** The editing procedures through the router: who may call what, and what the answers carry. */
describe.each(PROVIDERS)("rule and draft editing procedures on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let ruleIds: string[];
  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "routes", description: "" })).id;
    const isp = await op.isp.create({ clusterId, fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" } });
    const pool = await op.pool.create({
      clusterId,
      fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    ruleIds = [];
    for (let i = 0; i < 5; i++) {
      const r = await op.rule.create({
        clusterId,
        fields: {
          source: { kind: "cidrs", cidrs: [`100.64.${i}.0/24`] },
          action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
          comment: i === 3 ? "printers" : "",
        },
      });
      ruleIds.push(r.entity.id);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lets a viewer read, filter, preview and simulate, but not change anything", async () => {
    const viewer = h.as("viewer");
    const list = await viewer.rule.list({ clusterId, search: "printers" });
    expect(list).toMatchObject({ total: 1, count: 5 });
    expect(list.rules[0]?.rule.id).toBe(ruleIds[3]);
    expect((await viewer.rule.ids({ clusterId, search: "100.64." })).ids).toHaveLength(5);
    const preview = await viewer.rule.bulkPreview({ clusterId, ruleIds, operation: { op: "disable" } });
    expect(preview.changeCount).toBe(5);
    const summary = await viewer.draft.summary({ clusterId });
    expect(summary).toMatchObject({ dirty: true, summary: { added: 7, total: 7 } });
    const changes = await viewer.draft.changes({ clusterId });
    expect(changes.counts).toEqual({ isps: 1, pools: 1, zones: 0, rules: 5 });
    expect((await viewer.draft.warnings({ clusterId })).warnings).toEqual([]);
    const sim = await viewer.draft.simulate({
      clusterId,
      packet: { src: "100.64.3.3", dst: "203.0.113.1", protocol: "udp", routedIspId: null },
    });
    expect(sim.results[0]?.matched?.ruleId).toBe(ruleIds[3]);

    const before = await tableCounts(h.db);
    const version = summary.draftVersion;
    await expect(
      viewer.rule.bulkApply({ clusterId, ruleIds, operation: { op: "disable" }, draftVersion: version }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      viewer.rule.move({ clusterId, ruleId: ruleIds[4] as string, toPosition: 1, draftVersion: version }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      viewer.draft.discardChange({ clusterId, kind: "rule", id: ruleIds[0] as string, draftVersion: version }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("refuses mutations without the session's CSRF token", async () => {
    const forged = h.as("operator", { csrf: null });
    const { draftVersion } = await h.as("operator").draft.summary({ clusterId });
    await expect(
      forged.rule.bulkApply({ clusterId, ruleIds, operation: { op: "delete" }, draftVersion }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await h.as("viewer").rule.list({ clusterId })).total).toBe(5);
  });

  it("rejects junk input with field messages", async () => {
    const op = h.as("operator");
    await expect(op.rule.bulkPreview({ clusterId, ruleIds: [], operation: { op: "disable" } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      // @ts-expect-error an operation the API does not know
      op.rule.bulkPreview({ clusterId, ruleIds, operation: { op: "explode" } }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      op.draft.simulate({
        clusterId,
        packet: { src: "300.1.1.1", dst: "1.1.1.1", protocol: "tcp", routedIspId: null },
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const err = await op.rule
      .bulkPreview({ clusterId, ruleIds, operation: { op: "setPool", poolId: "no-such-pool" } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BAD_REQUEST", message: "Pool no-such-pool does not exist in this cluster" });
  });

  it("applies a bulk change and a move for an operator", async () => {
    const op = h.as("operator");
    const { draftVersion } = await op.draft.summary({ clusterId });
    const r = await op.rule.bulkApply({
      clusterId,
      ruleIds: [ruleIds[0] as string],
      operation: { op: "setAlgorithm", algorithm: "rr" },
      draftVersion,
    });
    expect(r).toEqual({ draftVersion: draftVersion + 1, changed: 1 });
    const moved = await op.rule.move({
      clusterId,
      ruleId: ruleIds[4] as string,
      toPosition: 1,
      draftVersion: r.draftVersion,
    });
    expect(moved.changed).toBe(1);
    const first = await op.rule.list({ clusterId, limit: 1 });
    expect(first.rules[0]?.rule.id).toBe(ruleIds[4]);
  });
});

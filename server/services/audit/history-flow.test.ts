import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../../core/protocol/agent-api";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META, errorOf } from "../../../testkit/server/api";
import { enrollGateway } from "../gateways/enroll";
import { recordAgentStatus } from "../gateways/status";

const FACTS = { hostname: "gw", kernel: "6.1", nftVersion: "1.0.6", interfaces: [] };

function applied(revision: number, at: string, ok = true, error = ""): StatusReport {
  return {
    agentVersion: "1.0.0",
    running: ok ? { revision, failoverEpoch: 0 } : null,
    lastApply: { revision, failoverEpoch: 0, ok, error, at, durationsMs: {} },
    facts: FACTS,
  };
}

describe.each(PROVIDERS)("history of a cluster on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("follows an edit from the draft to its revision, each gateway's rollout, the ruleset diff and a revert", async () => {
    const op = h.as("operator");
    const admin = h.as("admin");
    const viewer = h.as("viewer");
    const cluster = await op.cluster.create({ name: "hist-edge" });
    const clusterId = cluster.id;
    const isp = await op.isp.create({
      clusterId,
      fields: { name: "isp-a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const pool = await op.pool.create({
      clusterId,
      fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    const rule = await op.rule.create({
      clusterId,
      fields: {
        source: { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
        egressIspId: isp.entity.id,
        action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
        comment: "office",
      },
    });
    const s1 = await op.draft.status({ clusterId });
    await op.draft.publish({ clusterId, message: "first", draftVersion: s1.draftVersion });

    // two gateways: one applies revision 1, the other fails to
    const gwA = await admin.gateway.create({ clusterId, name: "gw-a" });
    const gwB = await admin.gateway.create({ clusterId, name: "gw-b" });
    const tokA = (await enrollGateway(h.db, TEST_META, gwA.enrollToken, { agentVersion: "1.0.0" })).agentToken;
    const tokB = (await enrollGateway(h.db, TEST_META, gwB.enrollToken, { agentVersion: "1.0.0" })).agentToken;
    await recordAgentStatus(h.db, TEST_META, tokA, applied(1, "2030-01-01T00:00:00.000Z"));
    await recordAgentStatus(
      h.db,
      TEST_META,
      tokB,
      applied(1, "2030-01-01T00:00:01.000Z", false, "/tmp/r.nft:12:1-4: Error: No such file or directory"),
    );

    await op.rule.update({
      clusterId,
      id: rule.entity.id,
      version: rule.version,
      fields: { ...rule.entity, action: { type: "snat", poolId: pool.entity.id, algorithm: "sdh" } },
    });
    const s2 = await op.draft.status({ clusterId });
    await op.draft.publish({ clusterId, message: "hash by destination", draftVersion: s2.draftVersion });
    await recordAgentStatus(h.db, TEST_META, tokA, applied(2, "2030-01-01T00:01:00.000Z"));

    // the edit's event: who, what changed field by field, and the revision that shipped it
    const page = await viewer.audit.list({ clusterId, action: "rule.update" });
    const seq = page.events[0]?.seq;
    if (seq === undefined) throw new Error("no rule.update event");
    const detail = await viewer.audit.get({ seq });
    expect(detail.event).toMatchObject({ actorName: "operator", ip: "127.0.0.1", userAgent: "vitest" });
    expect(detail.event.clusterName).toBe("hist-edge");
    const changed = detail.changes.filter((c) => c.change === "changed");
    expect(changed).toEqual([expect.objectContaining({ path: "action.algorithm", before: "sh", after: "sdh" })]);
    expect(detail.changes.find((c) => c.path === "comment")).toMatchObject({ change: "same", after: "office" });
    expect(detail.related).toEqual({ kind: "published", revision: 2, seq: expect.any(Number) });
    expect(detail.names[pool.entity.id]).toBe('pool "a-main"');
    expect(detail.integrity).toMatchObject({ hashOk: true, linkOk: true });

    // rollout per revision and gateway
    const revs = await viewer.audit.revisions({ clusterId });
    expect(revs.publishedRevision).toBe(2);
    expect(revs.gateways.map((g) => g.name)).toEqual(["gw-a", "gw-b"]);
    const [r2, r1] = revs.revisions;
    expect(r2?.rollout[gwA.id]).toMatchObject({ state: "applied" });
    expect(r2?.rollout[gwB.id]).toEqual({ state: "pending" });
    expect(r1?.rollout[gwA.id]).toMatchObject({ state: "replaced" });
    expect(r1?.rollout[gwB.id]).toMatchObject({ state: "failed", error: expect.stringMatching(/No such file/) });

    // what the change means on gw-a's datapath
    const nft = await viewer.audit.rulesetDiff({ clusterId, gatewayId: gwA.id, from: 1, to: 2 });
    expect(nft.from.error).toBeNull();
    expect(nft.to.error).toBeNull();
    expect(nft.added).toBeGreaterThan(0);
    const added = (nft.hunks ?? []).flatMap((hk) => hk.lines.filter((l) => l.startsWith("+")));
    expect(added.join("\n")).toMatch(/jhash ip saddr \. ip daddr/);
    const same = await viewer.audit.rulesetDiff({ clusterId, gatewayId: gwA.id, from: 2, to: 2 });
    expect(same.hunks).toEqual([]);

    // revert publishes a copy of revision 1, audited, and both show in the timeline
    const reverted = await op.revision.revert({ clusterId, revision: 1, message: "sdh broke sessions" });
    expect(reverted.number).toBe(3);
    const timeline = await viewer.audit.list({ clusterId, action: "cluster." });
    expect(timeline.events.slice(0, 3).map((e) => [e.action, e.targetId])).toEqual([
      ["cluster.revert", "3"],
      ["cluster.publish", "2"],
      ["cluster.publish", "1"],
    ]);
    const revertDetail = await viewer.audit.get({ seq: timeline.events[0]?.seq ?? 0 });
    expect(revertDetail.related).toEqual({ kind: "is", revision: 3 });
    expect(revertDetail.event.after).toMatchObject({ revertedFrom: 1, message: "sdh broke sessions" });
    expect((await viewer.audit.revisions({ clusterId })).revisions[0]).toMatchObject({
      number: 3,
      revertedFrom: 1,
      rollout: { [gwA.id]: { state: "pending" }, [gwB.id]: { state: "pending" } },
    });

    // a later edit is in the draft until someone publishes or discards it
    const current = await op.rule.get({ clusterId, id: rule.entity.id });
    await op.rule.update({
      clusterId,
      id: rule.entity.id,
      version: current.version,
      fields: { ...current.entity, comment: "office, again" },
    });
    const pendingSeq = (await viewer.audit.list({ clusterId, action: "rule.update", limit: 1 })).events[0]?.seq ?? 0;
    expect((await viewer.audit.get({ seq: pendingSeq })).related).toEqual({ kind: "draft" });
    await op.draft.discard({ clusterId, draftVersion: (await op.draft.status({ clusterId })).draftVersion });
    expect((await viewer.audit.get({ seq: pendingSeq })).related).toMatchObject({
      kind: "discarded",
      action: "draft.discard",
    });
  });

  it("refuses a gateway of another cluster, unknown revisions and unknown events", async () => {
    const op = h.as("operator");
    const a = await op.cluster.create({ name: "hist-a" });
    const b = await op.cluster.create({ name: "hist-b" });
    const gw = await h.as("admin").gateway.create({ clusterId: b.id, name: "gw-b1" });
    const v = h.as("viewer");
    expect((await errorOf(v.audit.rulesetDiff({ clusterId: a.id, gatewayId: gw.id, from: 0, to: 0 }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await errorOf(v.audit.rulesetDiff({ clusterId: b.id, gatewayId: gw.id, from: 0, to: 9 }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await errorOf(v.audit.get({ seq: 999_999 }))).code).toBe("NOT_FOUND");
    expect((await errorOf(v.audit.get({ seq: 0 }))).code).toBe("BAD_REQUEST");
    expect((await errorOf(h.as(null).audit.revisions({ clusterId: a.id }))).code).toBe("UNAUTHORIZED");
  });
});

import { failureOf } from "../../../testkit/server/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { AppError } from "../../errors";
import { draftChanges, draftSummary } from "./changes";
import { discardChange } from "./discard-change";
import { createEntity, deleteEntity, getEntity, updateEntity } from "./entities";
import { publish } from "./revisions";
import {
  type DraftTestStore,
  draftTestStore,
  draftVersionOf,
  META,
  makeTestCluster,
  type TestCluster,
} from "../../../testkit/server/test-cluster";

const rejection = (p: Promise<unknown>) => failureOf(p, AppError);

describe.each(PROVIDERS)("discarding one draft change on %s", (provider) => {
  let t: DraftTestStore;
  beforeAll(async () => {
    t = await draftTestStore(provider);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function published(name: string): Promise<TestCluster> {
    const c = await makeTestCluster(t, name, 2);
    await publish(t.db, t.actor, META, {
      clusterId: c.clusterId,
      message: "base",
      draftVersion: await draftVersionOf(t.db, c.clusterId),
    });
    return c;
  }

  const discard = async (c: TestCluster, kind: "isp" | "pool" | "zone" | "rule" | "settings", id: string | null) =>
    discardChange(t.db, t.actor, META, {
      clusterId: c.clusterId,
      kind,
      id,
      draftVersion: await draftVersionOf(t.db, c.clusterId),
    });

  it("refuses to discard an added pool a draft rule uses, then discards both in the right order", async () => {
    const c = await published("discard-added");
    const pool = await createEntity(t.db, t.actor, META, "pool", c.clusterId, {
      name: "a-extra",
      ispId: c.ispA,
      addresses: ["198.51.100.40/30"],
    });
    const rule = await createEntity(t.db, t.actor, META, "rule", c.clusterId, {
      source: { kind: "cidrs", cidrs: ["100.66.0.0/24"] },
      egressIspId: c.ispA,
      action: { type: "snat", poolId: pool.entity.id, algorithm: "sdh" },
      comment: "uses the new pool",
    });
    expect((await draftSummary(t.db, c.clusterId)).summary).toEqual({ added: 2, removed: 0, changed: 0, total: 2 });

    const err = await rejection(discard(c, "pool", pool.entity.id));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toBe(
      `Cannot discard adding pool "a-extra": other draft changes depend on it (rule #3 "uses the new pool" translates to its addresses). Discard or change those first.`,
    );
    expect(await t.db.pool.count({ where: { id: pool.entity.id } })).toBe(1);

    const r = await discard(c, "rule", rule.entity.id);
    expect(r.discarded).toBe('adding rule #3 "uses the new pool"');
    await discard(c, "pool", pool.entity.id);
    expect(await t.db.pool.count({ where: { id: pool.entity.id } })).toBe(0);
    const summary = await draftSummary(t.db, c.clusterId);
    expect(summary.dirty).toBe(false);
    const audit = await t.db.auditEvent.findMany({
      where: { clusterId: c.clusterId, action: "draft.discard-change" },
      orderBy: { seq: "asc" },
    });
    expect(audit.map((e) => [e.targetType, e.targetId])).toEqual([
      ["rule", rule.entity.id],
      ["pool", pool.entity.id],
    ]);
    expect(JSON.parse(audit[1]?.before ?? "{}")).toMatchObject({ name: "a-extra" });
    expect(audit[1]?.after).toBeNull();
  });

  it("restores a changed ISP's published fields and a deleted zone with its id", async () => {
    const c = await published("discard-restore");
    const isp = await getEntity(t.db, "isp", c.clusterId, c.ispA);
    await updateEntity(t.db, t.actor, META, "isp", c.clusterId, c.ispA, isp.version, {
      ...isp.entity,
      failoverMode: "automatic",
      backupIspIds: [c.ispB],
      monitor: { ...isp.entity.monitor, intervalMs: 200 },
    });
    const zone = await getEntity(t.db, "zone", c.clusterId, c.zone);
    await deleteEntity(t.db, t.actor, META, "zone", c.clusterId, c.zone, zone.version);
    const changes = await draftChanges(t.db, c.clusterId);
    expect(changes.summary).toMatchObject({ changed: 1, removed: 1, total: 2 });
    expect(changes.isps[0]?.fields.map((f) => [f.label, f.before, f.after])).toEqual([
      ["probe interval (ms)", "500", "200"],
      ["failover mode", "manual", "automatic"],
      ["backup ISPs", "none", '"isp-b"'],
    ]);
    expect(changes.zones[0]).toMatchObject({ change: "removed", name: 'zone "office"' });

    await discard(c, "isp", c.ispA);
    const restored = await getEntity(t.db, "isp", c.clusterId, c.ispA);
    expect(restored.entity).toEqual(isp.entity);
    expect(restored.version).toBe(isp.version + 2);

    await discard(c, "zone", c.zone);
    const back = await getEntity(t.db, "zone", c.clusterId, c.zone);
    expect(back.entity).toEqual(zone.entity);
    expect((await draftSummary(t.db, c.clusterId)).dirty).toBe(false);
  });

  it("refuses to bring back a deleted pool whose addresses a draft pool now holds", async () => {
    const c = await published("discard-clash");
    const rules = await t.db.rule.findMany({ where: { clusterId: c.clusterId }, select: { id: true, version: true } });
    // pool-b is unused by rules; delete it, then give its addresses to a new pool
    const poolB = await getEntity(t.db, "pool", c.clusterId, c.poolB);
    await deleteEntity(t.db, t.actor, META, "pool", c.clusterId, c.poolB, poolB.version);
    await createEntity(t.db, t.actor, META, "pool", c.clusterId, {
      name: "b-new",
      ispId: c.ispB,
      addresses: ["203.0.113.16/30"],
    });
    const err = await rejection(discard(c, "pool", c.poolB));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/^Cannot discard deleting pool "pool-b": it would clash with other draft changes: /);
    expect(err.message).toMatch(/already in pool "b-new"/);
    expect(await t.db.pool.count({ where: { id: c.poolB } })).toBe(0);
    expect(rules.length).toBe(2);
  });

  it("says when there is nothing to discard, and refuses a stale draft version", async () => {
    const c = await published("discard-nothing");
    const nothing = await rejection(discard(c, "rule", c.rules[0] as string));
    expect(nothing.code).toBe("CONFLICT");
    expect(nothing.message).toMatch(/has no draft change to discard/);
    const missing = await rejection(discard(c, "rule", "no-such-rule"));
    expect(missing.code).toBe("NOT_FOUND");

    const zone = await createEntity(t.db, t.actor, META, "zone", c.clusterId, {
      name: "lab",
      networks: ["100.99.0.0/16"],
    });
    const v = await draftVersionOf(t.db, c.clusterId);
    await createEntity(t.db, t.actor, META, "zone", c.clusterId, { name: "lab2", networks: ["100.98.0.0/16"] });
    const stale = await rejection(
      discardChange(t.db, t.actor, META, { clusterId: c.clusterId, kind: "zone", id: zone.entity.id, draftVersion: v }),
    );
    expect(stale.code).toBe("CONFLICT");
    expect(await t.db.zone.count({ where: { id: zone.entity.id } })).toBe(1);
  });
});

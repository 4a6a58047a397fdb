import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../testkit/server/databases";
import { type ApiHarness, apiHarness, tableCounts, errorOf } from "../../testkit/server/api";

describe.each(PROVIDERS)("policy editing and revisions on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("edits the draft, publishes, diffs, reverts, and audits every step in one chain", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "fra-edge", description: "Frankfurt" });
    const ispA = await op.isp.create({
      clusterId: cluster.id,
      fields: { name: "isp-a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const pool = await op.pool.create({
      clusterId: cluster.id,
      fields: { name: "a-main", ispId: ispA.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    const zone = await op.zone.create({
      clusterId: cluster.id,
      fields: { name: "office", networks: ["100.64.0.0/16"] },
    });
    const rule = await op.rule.create({
      clusterId: cluster.id,
      fields: {
        source: { kind: "zone", zoneId: zone.entity.id },
        egressIspId: ispA.entity.id,
        action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
        comment: "office via A",
      },
    });
    expect(rule.entity.seq).toBeGreaterThan(0);

    const status = await op.draft.status({ clusterId: cluster.id });
    expect(status.dirty).toBe(true);
    expect(status.publishedRevision).toBe(0);

    // publishing needs a message and the draft version the publisher saw
    const noMsg = await errorOf(
      op.draft.publish({ clusterId: cluster.id, message: " ", draftVersion: status.draftVersion }),
    );
    expect(noMsg.code).toBe("BAD_REQUEST");
    const stale = await errorOf(
      op.draft.publish({ clusterId: cluster.id, message: "first", draftVersion: status.draftVersion - 1 }),
    );
    expect(stale.code).toBe("CONFLICT");
    const r1 = await op.draft.publish({ clusterId: cluster.id, message: "first", draftVersion: status.draftVersion });
    expect(r1.number).toBe(1);
    expect((await op.draft.status({ clusterId: cluster.id })).dirty).toBe(false);
    const again = await errorOf(
      op.draft.publish({
        clusterId: cluster.id,
        message: "nothing",
        draftVersion: (await op.draft.status({ clusterId: cluster.id })).draftVersion,
      }),
    );
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toMatch(/Nothing to publish/);

    // revision 2 changes the rule's algorithm
    await op.rule.update({
      clusterId: cluster.id,
      id: rule.entity.id,
      version: rule.version,
      fields: { ...rule.entity, action: { type: "snat", poolId: pool.entity.id, algorithm: "sdh" } },
    });
    const s2 = await op.draft.status({ clusterId: cluster.id });
    const r2 = await op.draft.publish({
      clusterId: cluster.id,
      message: "hash by destination too",
      draftVersion: s2.draftVersion,
    });
    expect(r2.number).toBe(2);

    const diff = await op.revision.diff({ clusterId: cluster.id, from: 1, to: 2 });
    expect(diff.summary.total).toBe(1);
    expect(JSON.stringify(diff)).toContain("sdh");

    const reverted = await op.revision.revert({ clusterId: cluster.id, revision: 1, message: "back to sh" });
    expect(reverted.number).toBe(3);
    const back = await op.revision.diff({ clusterId: cluster.id, from: 1, to: 3 });
    expect(back.summary.total).toBe(0);
    const revisions = await op.revision.list({ clusterId: cluster.id });
    expect(revisions.map((r) => r.number)).toEqual([3, 2, 1]);
    expect(revisions[0]?.revertedFrom).toBe(1);

    const events = await h.as("viewer").audit.list({ clusterId: cluster.id, limit: 100 });
    const actions = events.events.map((e) => e.action).reverse();
    expect(actions).toEqual([
      "cluster.create",
      "isp.create",
      "pool.create",
      "zone.create",
      "rule.create",
      "cluster.publish",
      "rule.update",
      "cluster.publish",
      "cluster.revert",
    ]);
    const update = events.events.find((e) => e.action === "rule.update");
    expect(update?.actorName).toBe("operator");
    expect(update?.ip).toBe("127.0.0.1");
    expect(JSON.stringify(update?.before)).toContain('"sh"');
    expect(JSON.stringify(update?.after)).toContain('"sdh"');
    expect(await h.as("viewer").audit.verify()).toMatchObject({ intact: true });
  });

  it("refuses an invalid CIDR with a field message and writes nothing", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "cidr-check" });
    const before = await tableCounts(h.db);
    const err = await errorOf(
      op.zone.create({ clusterId: cluster.id, fields: { name: "bad", networks: ["100.64.0.1/16"] } }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/host bits set; did you mean 100\.64\.0\.0\/16/);
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("refuses an address that is already in another pool, naming that pool", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "pool-overlap" });
    const isp = await op.isp.create({
      clusterId: cluster.id,
      fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    await op.pool.create({
      clusterId: cluster.id,
      fields: { name: "p1", ispId: isp.entity.id, addresses: ["198.51.100.16/29"] },
    });
    const before = await tableCounts(h.db);
    const err = await errorOf(
      op.pool.create({
        clusterId: cluster.id,
        fields: { name: "p2", ispId: isp.entity.id, addresses: ["198.51.100.20"] },
      }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/198\.51\.100\.20/);
    expect(err.message).toMatch(/p1/);
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("refuses reserved SNAT addresses and a loopback uplink, naming the field, and nothing is published", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "reserved" });
    const isp = await op.isp.create({
      clusterId: cluster.id,
      fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const before = await tableCounts(h.db);
    for (const address of ["127.0.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "169.254.0.0/24"]) {
      const err = await errorOf(
        op.pool.create({
          clusterId: cluster.id,
          fields: { name: "bad", ispId: isp.entity.id, addresses: ["198.51.100.50", address] },
        }),
      );
      expect(err.code).toBe("BAD_REQUEST");
      expect(err.message).toMatch(/cannot (be a SNAT address|hold SNAT addresses)/);
      const issues = (err.cause as { issues?: { path: unknown[] }[] } | undefined)?.issues ?? [];
      expect(issues.map((i) => i.path)).toContainEqual(["addresses", 1]);
    }
    const lo = await errorOf(
      op.isp.create({ clusterId: cluster.id, fields: { name: "b", interface: "lo", nextHop: "198.51.100.2" } }),
    );
    expect(lo.code).toBe("BAD_REQUEST");
    expect(lo.message).toMatch(/interface lo is the loopback interface/);
    expect(await tableCounts(h.db)).toEqual(before);
    const status = await op.draft.status({ clusterId: cluster.id });
    expect(status.publishedRevision).toBe(0);
  });

  it("refuses to delete a pool that a rule uses, and says which rule", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "dependents" });
    const isp = await op.isp.create({
      clusterId: cluster.id,
      fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const pool = await op.pool.create({
      clusterId: cluster.id,
      fields: { name: "used", ispId: isp.entity.id, addresses: ["198.51.100.40"] },
    });
    await op.rule.create({
      clusterId: cluster.id,
      fields: {
        source: { kind: "cidrs", cidrs: ["100.64.9.0/24"] },
        action: { type: "snat", poolId: pool.entity.id, algorithm: "rr" },
      },
    });
    const err = await errorOf(op.pool.delete({ clusterId: cluster.id, id: pool.entity.id, version: pool.version }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/rule/i);
    expect(await h.db.pool.count({ where: { id: pool.entity.id } })).toBe(1);
  });

  it("detects a stale edit and lets exactly one of two concurrent edits win", async () => {
    const op = h.as("operator");
    const cluster = await op.cluster.create({ name: "races" });
    const zone = await op.zone.create({ clusterId: cluster.id, fields: { name: "z", networks: ["100.64.1.0/24"] } });
    const edit = (net: string) =>
      op.zone.update({
        clusterId: cluster.id,
        id: zone.entity.id,
        version: zone.version,
        fields: { name: "z", networks: [net] },
      });
    const results = await Promise.allSettled([edit("100.64.2.0/24"), edit("100.64.3.0/24")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as TRPCError).code).toBe("CONFLICT");
    expect((rejected.reason as TRPCError).message).toMatch(/changed by someone else/);
    const after = await op.zone.get({ clusterId: cluster.id, id: zone.entity.id });
    expect(after.version).toBe(2);
    expect(await h.db.auditEvent.count({ where: { targetId: zone.entity.id, action: "zone.update" } })).toBe(1);
  });

  it("keeps the audit chain intact under concurrent writers and names a tampered event", async () => {
    const op = h.as("operator");
    await Promise.all(Array.from({ length: 12 }, (_, i) => op.cluster.create({ name: `parallel-${i}` })));
    const report = await h.as("viewer").audit.verify();
    expect(report.intact).toBe(true);

    const victim = await h.db.auditEvent.findFirstOrThrow({
      where: { action: "cluster.create" },
      orderBy: { seq: "desc" },
      skip: 3,
    });
    await h.db.auditEvent.update({ where: { seq: victim.seq }, data: { actorName: "mallory" } });
    const broken = await h.as("viewer").audit.verify();
    expect(broken).toMatchObject({ intact: false, firstBadSeq: victim.seq });
  });
});

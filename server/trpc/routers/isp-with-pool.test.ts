import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, errorOf, tableCounts } from "../../../testkit/server/api";

const issuesOf = (e: { cause?: unknown }) =>
  ((e.cause as { issues?: { path: (string | number)[]; message: string }[] } | undefined)?.issues ?? []).map((i) => [
    i.path.join("."),
    i.message,
  ]);

describe.each(PROVIDERS)("an ISP with its first pool in one edit on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let uplinks = 0;
  /** an ISP on an interface and next hop of its own, as the gateway tells uplinks apart */
  const isp = (name: string) => {
    uplinks += 1;
    return { name, interface: `eth${uplinks}`, nextHop: `203.0.113.${uplinks}` };
  };

  beforeAll(async () => {
    h = await apiHarness(provider);
    clusterId = (await h.as("operator").cluster.create({ name: "first-hour", description: "" })).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("creates both, makes the pool the ISP's default pool, and audits both", async () => {
    const op = h.as("operator");
    const r = await op.isp.createWithPool({
      clusterId,
      fields: isp("telia"),
      newPool: { name: "telia-pool", addresses: ["198.51.100.71-73"] },
    });
    expect(r.isp.entity.defaultPoolId).toBe(r.pool.entity.id);
    expect(r.pool.entity).toMatchObject({
      ispId: r.isp.entity.id,
      mode: "routed",
      addresses: ["198.51.100.71-198.51.100.73"],
    });
    const pools = await op.pool.list({ clusterId });
    expect(pools.map((p) => p.entity.name)).toEqual(["telia-pool"]);
    const audit = await h.db.auditEvent.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
    expect(audit.map((a) => a.action).slice(-2)).toEqual(["isp.create", "pool.create"]);
    const { warnings } = await op.draft.warnings({ clusterId });
    expect(warnings.filter((w) => w.id === r.isp.entity.id || w.id === r.pool.entity.id)).toEqual([]);
  });

  it("takes an interface-address pool, which has no addresses of its own", async () => {
    const r = await h.as("operator").isp.createWithPool({
      clusterId,
      fields: { ...isp("dsl"), addressing: "dhcp" },
      newPool: { name: "dsl-masq", mode: "interface", addresses: [] },
    });
    expect(r.isp.entity.defaultPoolId).toBe(r.pool.entity.id);
    expect(r.pool.entity).toMatchObject({ mode: "interface", addresses: [] });
  });

  it("refuses a bad pool under the pool's field and writes nothing", async () => {
    const op = h.as("operator");
    const before = await tableCounts(h.db);
    const bad = await errorOf(
      op.isp.createWithPool({
        clusterId,
        fields: isp("cogent"),
        newPool: { name: "cogent-pool", addresses: ["not-an-ip"] },
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toMatch(/pool/i);
    expect(issuesOf(bad).map(([path]) => path)).toEqual(["newPool.addresses.0"]);
    // a pool overlapping another pool's addresses: a policy problem, also under the pool's field
    const overlap = await errorOf(
      op.isp.createWithPool({
        clusterId,
        fields: isp("cogent"),
        newPool: { name: "cogent-pool", addresses: ["198.51.100.72"] },
      }),
    );
    expect(overlap.code).toBe("BAD_REQUEST");
    expect(issuesOf(overlap).every(([path]) => String(path).startsWith("newPool"))).toBe(true);
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("refuses a bad ISP or a taken pool name without creating either", async () => {
    const op = h.as("operator");
    const before = await tableCounts(h.db);
    const badIsp = await errorOf(
      op.isp.createWithPool({
        clusterId,
        fields: { ...isp("level3"), nextHop: "nope" },
        newPool: { name: "level3-pool", addresses: ["203.0.113.10"] },
      }),
    );
    expect(badIsp.code).toBe("BAD_REQUEST");
    expect(issuesOf(badIsp).map(([path]) => path)).toEqual(["nextHop"]);
    const taken = await errorOf(
      op.isp.createWithPool({
        clusterId,
        fields: isp("level3"),
        newPool: { name: "telia-pool", addresses: ["203.0.113.10"] },
      }),
    );
    expect(taken.code).toBe("BAD_REQUEST");
    expect(taken.message).toContain("telia-pool");
    expect(issuesOf(taken).map(([path]) => path)).toEqual(["newPool.name"]);
    expect(await tableCounts(h.db)).toEqual(before);
    const viewer = await errorOf(
      h.as("viewer").isp.createWithPool({
        clusterId,
        fields: isp("level3"),
        newPool: { name: "level3-pool", addresses: ["203.0.113.10"] },
      }),
    );
    expect(viewer.code).toBe("FORBIDDEN");
  });
});

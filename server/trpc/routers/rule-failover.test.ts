import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";

/**
 * A rule's failover behaviour through the API: follow the ISP's failover, never move, or its own
 * backup ISP and pool. Bad combinations are refused with the field named; the rules list shows the
 * effective failover pool; the failover preview shows where each rule's traffic goes.
 */

function issuesOf(e: unknown) {
  const err = e as {
    code?: string;
    message?: string;
    cause?: { issues?: { path: (string | number)[]; message: string }[] };
  };
  return { code: err.code, message: err.message, issues: err.cause?.issues ?? [] };
}

describe.each(PROVIDERS)("per-rule failover behaviour on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "rulefail", description: "" })).id;
    const isp = async (name: string, n: number) =>
      (await op.isp.create({ clusterId, fields: { name, interface: `isp${name}`, nextHop: `100.65.${n}.2` } })).entity;
    const a = await isp("a", 1);
    const b = await isp("b", 2);
    const c = await isp("c", 3);
    const pool = async (name: string, ispId: string, address: string) =>
      (await op.pool.create({ clusterId, fields: { name, ispId, addresses: [address] } })).entity.id;
    ids.a = a.id;
    ids.b = b.id;
    ids.c = c.id;
    ids.pa = await pool("pool-a", a.id, "198.51.100.10");
    ids.pb = await pool("pool-b", b.id, "198.51.100.130");
    ids.pc = await pool("pool-c", c.id, "203.0.113.10");
    ids.pc2 = await pool("pool-c2", c.id, "203.0.113.20");
    const fieldsOf = (x: typeof a, n: number, over: Record<string, unknown>) => ({
      name: x.name,
      interface: x.interface,
      nextHop: `100.65.${n}.2`,
      ...over,
    });
    await op.isp.update({
      clusterId,
      id: a.id,
      version: 1,
      fields: fieldsOf(a, 1, { backupIspIds: [b.id], defaultPoolId: ids.pa }),
    });
    await op.isp.update({ clusterId, id: b.id, version: 1, fields: fieldsOf(b, 2, { defaultPoolId: ids.pb }) });
    await op.isp.update({ clusterId, id: c.id, version: 1, fields: fieldsOf(c, 3, { defaultPoolId: ids.pc }) });
    const rule = async (net: string, comment: string, over: Record<string, unknown>) =>
      (
        await op.rule.create({
          clusterId,
          fields: {
            source: { kind: "cidrs", cidrs: [net] },
            egressIspId: a.id,
            action: { type: "snat", poolId: ids.pa as string, algorithm: "sh" },
            comment,
            ...over,
          },
        })
      ).entity.id;
    ids.follow = await rule("100.64.1.0/24", "follows", {});
    ids.stay = await rule("100.64.2.0/24", "never moves", { onFailover: "stay" });
    ids.own = await rule("100.64.3.0/24", "own backup", {
      onFailover: "own",
      failoverIspId: c.id,
      fallbackPoolId: ids.pc2,
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("refuses contradictory or unusable failover settings, naming the field, and stores nothing", async () => {
    const op = h.as("operator");
    const before = (await op.rule.list({ clusterId })).count;
    const base = {
      source: { kind: "cidrs" as const, cidrs: ["100.64.9.0/24"] },
      egressIspId: ids.a as string,
      action: { type: "snat" as const, poolId: ids.pa as string, algorithm: "sh" as const },
    };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ onFailover: "own", failoverIspId: ids.a }, "failoverIspId", "is the ISP the rule's traffic leaves through"],
      [{ onFailover: "own" }, "failoverIspId", "is required"],
      [{ onFailover: "own", failoverIspId: ids.c, fallbackPoolId: ids.pb }, "fallbackPoolId", 'belongs to ISP "b"'],
      [{ onFailover: "stay", failoverIspId: ids.c }, "failoverIspId", "never moves cannot have its own backup"],
      [{ onFailover: "stay", fallbackPoolId: ids.pb }, "fallbackPoolId", "cannot have a fallback pool"],
      [{ onFailover: "sideways" }, "onFailover", ""],
    ];
    for (const [over, field, words] of cases) {
      const e = issuesOf(await op.rule.create({ clusterId, fields: { ...base, ...over } }).catch((x: unknown) => x));
      expect(e.code).toBe("BAD_REQUEST");
      const issue = e.issues.find((i) => i.path.join(".") === field);
      expect(issue, `${JSON.stringify(over)} names ${field}: ${JSON.stringify(e)}`).toBeDefined();
      expect(issue?.message).toContain(words);
    }
    expect((await op.rule.list({ clusterId })).count).toBe(before);
  });

  it("lists each rule's effective failover pool", async () => {
    const list = await h.as("viewer").rule.list({ clusterId });
    const byComment = new Map(list.rules.map((r) => [r.rule.comment, r.failover]));
    expect(byComment.get("follows")).toBe("b / pool-b (from a's backup)");
    expect(byComment.get("never moves")).toBe("stays on a / pool-a (never moves)");
    expect(byComment.get("own backup")).toBe("c / pool-c2 (the rule's own backup)");
  });

  it("previews a failover rule by rule: follow moves to the backup, own to its own, never-move stays", async () => {
    const op = h.as("operator");
    const { draftVersion } = await op.draft.summary({ clusterId });
    await op.draft.publish({ clusterId, message: "per-rule failover", draftVersion });
    const impact = await h.as("viewer").failover.impact({ clusterId, ispId: ids.a as string, action: "failover" });
    expect(impact.blocked).toBeNull();
    expect(impact.backupToUse?.name).toBe("b");
    expect(
      impact.rules.map((r) => [r.comment, r.onFailover, r.after.map((x) => `${x.ispName}/${x.poolName}`)]),
    ).toEqual([
      ["follows", "follow", ["b/pool-b"]],
      ["own backup", "own", ["c/pool-c2"]],
    ]);
    expect(impact.staying.map((r) => [r.comment, r.after.map((x) => `${x.ispName}/${x.poolName}`)])).toEqual([
      ["never moves", ["a/pool-a"]],
    ]);
  });
});

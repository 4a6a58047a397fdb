import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";

/**
 * The cluster's rule ordering mode through the API: where a new rule lands and why, previewing and
 * switching the mode (a draft change that is audited, published and diffed), moves in list order,
 * concurrent reorders and bad input.
 */
describe.each(PROVIDERS)("rule ordering mode on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let poolId: string;
  const ids: Record<string, string> = {};
  const op = () => h.as("operator");
  const draftVersion = async () => (await op().draft.summary({ clusterId })).draftVersion;
  const order = async () => (await op().rule.list({ clusterId })).rules.map((r) => r.rule.comment);
  const settingsRow = async () =>
    (await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } })).settings;
  const addRule = (comment: string, cidr: string) =>
    op().rule.create({
      clusterId,
      fields: { source: { kind: "cidrs", cidrs: [cidr] }, action: { type: "snat", poolId, algorithm: "sh" }, comment },
    });

  beforeAll(async () => {
    h = await apiHarness(provider);
    clusterId = (await op().cluster.create({ name: "order", description: "" })).id;
    const isp = await op().isp.create({ clusterId, fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" } });
    poolId = (
      await op().pool.create({
        clusterId,
        fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
      })
    ).entity.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("says where a new rule landed and why, most specific first", async () => {
    ids.wide = (await addRule("wide", "100.64.0.0/16")).entity.id;
    const narrow = await addRule("narrow", "100.64.1.0/24");
    ids.narrow = narrow.entity.id;
    expect(narrow.placement?.text).toBe(
      "Placed at #1 of 2, most specific first: its source /24 is more specific than #2's /16.",
    );
    const host = await addRule("host", "100.64.1.7/32");
    ids.host = host.entity.id;
    expect(host.placement).toMatchObject({ position: 1, count: 3 });
    expect(await order()).toEqual(["host", "narrow", "wide"]);
  });

  it("previews which rules change place, then switches to list order as an audited draft change", async () => {
    const viewer = h.as("viewer");
    const preview = await viewer.rule.orderModePreview({ clusterId, mode: "list" });
    expect(preview).toMatchObject({ current: "specificity", mode: "list", changeCount: 2, ruleCount: 3 });
    expect(preview.changes.map((c) => `${c.name} -> ${c.newName}`)).toEqual([
      '#3 "wide" -> #1 "wide"',
      '#1 "host" -> #3 "host"',
    ]);
    await expect(
      viewer.rule.setOrderMode({ clusterId, mode: "list", draftVersion: preview.draftVersion }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });

    const set = await op().rule.setOrderMode({ clusterId, mode: "list", draftVersion: preview.draftVersion });
    expect(set).toEqual({ draftVersion: preview.draftVersion + 1, mode: "list", rulesMoved: 2 });
    expect(await order()).toEqual(["wide", "narrow", "host"]);
    const events = await h.db.auditEvent.findMany({ where: { clusterId, action: "cluster.rule_order" } });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]?.after ?? "{}")).toEqual({ ruleOrder: "list", rulesMoved: 2 });

    const sim = await op().draft.simulate({
      clusterId,
      packet: { src: "100.64.1.7", dst: "203.0.113.1", protocol: "udp", routedIspId: null },
    });
    expect(sim.results[0]?.matched?.ruleId).toBe(ids.wide);
    await expect(
      op().rule.setOrderMode({ clusterId, mode: "list", draftVersion: set.draftVersion }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: "Rules already apply in the order listed" });
  });

  it("puts a new rule at the end in list order and moves rules by dragging", async () => {
    const late = await addRule("late", "100.64.1.8/32");
    ids.late = late.entity.id;
    expect(late.placement?.text).toBe(
      "Placed at #4 of 4: rules apply in the order listed, so a new rule goes to the end.",
    );
    const moved = await op().rule.move({
      clusterId,
      ruleId: ids.late as string,
      toPosition: 2,
      draftVersion: await draftVersion(),
    });
    expect(moved.changed).toBeGreaterThan(0);
    expect(await order()).toEqual(["wide", "late", "narrow", "host"]);
  });

  it("lets one of two concurrent reorders at the same draft version win, and the other is refused whole", async () => {
    const v = await draftVersion();
    const results = await Promise.allSettled([
      op().rule.move({ clusterId, ruleId: ids.host as string, toPosition: 1, draftVersion: v }),
      op().rule.move({ clusterId, ruleId: ids.narrow as string, toPosition: 1, draftVersion: v }),
      op().rule.setOrderMode({ clusterId, mode: "specificity", draftVersion: v }),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "CONFLICT" });
    expect(await draftVersion()).toBe(v + 1);
    const now = await order();
    expect(
      [
        ["host", "wide", "late", "narrow"],
        ["narrow", "wide", "late", "host"],
        ["host", "late", "narrow", "wide"],
      ].map((o) => JSON.stringify(o)),
    ).toContain(JSON.stringify(now));
  });

  it("rejects bad input at the boundary, naming the field, and changes nothing", async () => {
    const before = await settingsRow();
    const v = await draftVersion();
    const bad = await op()
      // @ts-expect-error a mode the API does not know
      .rule.setOrderMode({ clusterId, mode: "alphabetical", draftVersion: v })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "BAD_REQUEST" });
    expect(String((bad as Error).message)).toContain("mode");
    await expect(op().rule.setOrderMode({ clusterId, mode: "list", draftVersion: v - 1 })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await expect(
      // @ts-expect-error no draft version
      op().rule.setOrderMode({ clusterId, mode: "list" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(op().rule.orderModePreview({ clusterId: "no-such-cluster", mode: "list" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await settingsRow()).toBe(before);
    expect(await draftVersion()).toBe(v);
  });

  it("publishes the mode with the policy and shows it in the revision diff", async () => {
    const first = await op().draft.publish({ clusterId, message: "rules", draftVersion: await draftVersion() });
    const mode = (await op().rule.orderModePreview({ clusterId, mode: "list" })).current;
    const other = mode === "list" ? "specificity" : "list";
    await op().rule.setOrderMode({ clusterId, mode: other, draftVersion: await draftVersion() });
    const second = await op().draft.publish({ clusterId, message: "order", draftVersion: await draftVersion() });
    const diff = await op().revision.diff({ clusterId, from: first.number, to: second.number });
    expect(diff.settings.map((f) => f.label)).toEqual(["rule order"]);
    expect(diff.rules).toEqual([]);
  });
});

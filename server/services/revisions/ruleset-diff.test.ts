import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db";
import { generatePolicy } from "../../../testkit/policy-fixtures";
import { type DraftTestStore, draftTestStore } from "../../../testkit/server/test-cluster";
import { rulesetDiff } from "./ruleset-diff";

/** A cluster with two revisions of a generated policy (every tenth rule moves pool) and one gateway. */
async function bigCluster(db: Db, name: string, rules: number) {
  const cluster = await db.cluster.create({ data: { name, settings: "{}" }, select: { id: true } });
  const p1 = generatePolicy({ rules });
  const p2 = structuredClone(p1);
  const poolIds = new Set(p2.pools.map((p) => p.id));
  p2.rules.forEach((r, i) => {
    if (i % 10 !== 0 || r.action.type !== "snat") return;
    const other = r.action.poolId.replace(/-a$/, "-b");
    if (poolIds.has(other)) r.action = { ...r.action, poolId: other };
  });
  for (const [number, policy] of [
    [1, p1],
    [2, p2],
  ] as const) {
    await db.revision.create({
      data: { clusterId: cluster.id, number, message: `r${number}`, authorName: "t", policy: JSON.stringify(policy) },
    });
  }
  const gw = await db.gateway.create({ data: { clusterId: cluster.id, name: "gw1" }, select: { id: true } });
  return { clusterId: cluster.id, gatewayId: gw.id, from: 1, to: 2 };
}

describe("ruleset diffs of large policies", () => {
  let t: DraftTestStore;
  beforeAll(async () => {
    t = await draftTestStore("sqlite");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("are rendered once per revision and gateway: asking again renders nothing", async () => {
    const input = await bigCluster(t.db, "cached", 500);
    const first = await rulesetDiff(t.db, input);
    expect(first.added).toBeGreaterThan(0);
    // revisions are immutable; were they rendered again, their rows would be read again
    await t.db.revision.deleteMany({ where: { clusterId: input.clusterId } });
    const again = await rulesetDiff(t.db, input);
    expect(again).toEqual(first);
    // a revision that was never rendered is still read, and still a NOT_FOUND when missing
    await expect(rulesetDiff(t.db, { ...input, to: 3 })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("render in a worker thread: the event loop keeps answering meanwhile", async () => {
    const input = await bigCluster(t.db, "busy", 6000);
    let worst = 0;
    let running = true;
    const ticker = (async () => {
      while (running) {
        const due = performance.now() + 10;
        await new Promise((r) => setTimeout(r, 10));
        worst = Math.max(worst, performance.now() - due);
      }
    })();
    const started = performance.now();
    const r = await rulesetDiff(t.db, input);
    const took = performance.now() - started;
    running = false;
    await ticker;
    expect(r.hunks?.length).toBeGreaterThan(0);
    // rendering 6,000 rules twice takes the best part of a second; the loop must not stall for it
    expect(took).toBeGreaterThan(300);
    expect(worst).toBeLessThan(took / 3);
  });
});

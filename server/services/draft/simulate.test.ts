import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFailoverState, decide } from "../../../core/spec/decide";
import { compileGatewaySpec } from "../../../core/policy/compile";
import type { SkippedRule } from "../../../core/policy/simulate";
import { AppError } from "../../errors";
import { createEntity } from "./entities";
import { publish, loadRevisionPolicy } from "./revisions";
import { pickSkipped, simulate } from "./simulate";
import { draftSnapshot } from "./snapshot";
import {
  type DraftTestStore,
  draftTestStore,
  draftVersionOf,
  META,
  makeTestCluster,
} from "../../../testkit/server/test-cluster";

describe("simulating packets against the draft and revisions", () => {
  let t: DraftTestStore;
  beforeAll(async () => {
    t = await draftTestStore("sqlite");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers what the compiled draft does, per ISP, with the gateway's own decision", async () => {
    const c = await makeTestCluster(t, "sim-draft", 3);
    const packet = { src: "100.64.1.77", dst: "198.51.100.200", protocol: "tcp" as const, dstPort: 443 };
    const r = await simulate(t.db, {
      clusterId: c.clusterId,
      revision: "draft",
      failover: "current",
      packet: { ...packet, routedIspId: null },
    });
    expect(r.results.map((x) => x.routedIspName)).toEqual(["isp-a", "isp-b"]);
    const [viaA, viaB] = r.results;
    // the same answer as decide() on a spec compiled from the same draft
    const snap = await draftSnapshot(t.db, c.clusterId);
    const spec = compileGatewaySpec({
      policy: snap.policy,
      revision: 0,
      clusterId: c.clusterId,
      clusterName: "sim-draft",
      gateway: { id: "x", name: "x" },
      failover: [],
      failoverEpoch: 0,
    });
    const d = decide(spec, adminFailoverState(spec), { ...packet, routedIspId: c.ispA });
    expect(viaA?.outcome).toBe("snat");
    expect(viaA?.snat?.address).toBe(d.verdict.kind === "snat" ? d.verdict.address : "?");
    expect(viaA?.matched?.position).toBe(2);
    expect(viaA?.route).toMatchObject({ nextHop: "198.51.100.1", interface: "eth1" });
    expect(viaA?.skipped).toEqual([
      { ruleId: c.rules[0], position: 1, reasons: ["source 100.64.1.77 is not in 100.64.0.0/24"] },
    ]);
    expect(r.rules[c.rules[1] as string]?.title).toBe('rule #2 "rule 1"');
    // every rule is for traffic leaving via isp-a: via isp-b nothing matches and it is dropped
    expect(viaB?.outcome).toBe("drop");
    expect(viaB?.summary).toMatch(/No rule matches/);
  });

  it("simulates a published revision, not the draft, when asked", async () => {
    const c = await makeTestCluster(t, "sim-revision", 1);
    await publish(t.db, t.actor, META, {
      clusterId: c.clusterId,
      message: "one rule",
      draftVersion: await draftVersionOf(t.db, c.clusterId),
    });
    await createEntity(t.db, t.actor, META, "rule", c.clusterId, {
      source: { kind: "cidrs", cidrs: ["100.99.0.0/16"] },
      action: { type: "drop" },
    });
    const packet = { src: "100.99.1.1", dst: "203.0.113.50", protocol: "udp" as const, routedIspId: c.ispA };
    const draft = await simulate(t.db, { clusterId: c.clusterId, revision: "draft", failover: "none", packet });
    const rev1 = await simulate(t.db, { clusterId: c.clusterId, revision: 1, failover: "none", packet });
    expect(draft.results[0]?.summary).toMatch(/^Rule #2 drops/);
    expect(rev1.results[0]?.summary).toMatch(/^No rule matches/);
    expect((await loadRevisionPolicy(t.db, c.clusterId, 1)).rules).toHaveLength(1);
    await expect(
      simulate(t.db, { clusterId: c.clusterId, revision: 7, failover: "none", packet }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    const err = await simulate(t.db, {
      clusterId: c.clusterId,
      revision: "draft",
      failover: "none",
      packet: { ...packet, routedIspId: "no-such-isp" },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
  });

  it("follows the routing choice: one ISP, spread over several, or none", async () => {
    const c = await makeTestCluster(t, "sim-route", 2);
    const packet = { src: "100.64.1.77", dst: "198.51.100.200", protocol: "tcp" as const, dstPort: 443 };
    const run = (route: Parameters<typeof simulate>[1]["route"]) =>
      simulate(t.db, { clusterId: c.clusterId, revision: "draft", failover: "none", packet, route });
    const none = await run({ kind: "none" });
    expect(none.route).toBe("none");
    expect(none.results.map((r) => [r.routedIspId, r.outcome])).toEqual([[null, "not-egress"]]);
    const one = await run({ kind: "isp", ispId: c.ispB });
    expect(one.results.map((r) => [r.routedIspName, r.outcome])).toEqual([["isp-b", "drop"]]);
    const spread = await run({ kind: "ecmp", ispIds: [c.ispA, c.ispB] });
    expect(spread.route).toBe("ecmp");
    expect(spread.results.map((r) => [r.routedIspName, r.outcome])).toEqual([
      ["isp-a", "snat"],
      ["isp-b", "drop"],
    ]);
    const err = await run({ kind: "ecmp", ispIds: [c.ispA, "no-such-isp"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).issues).toEqual([
      { path: ["route", "ispIds", 1], message: "is not an ISP of this policy" },
    ]);
  });

  it("lists near misses first when there are too many earlier rules to show", () => {
    const skipped: SkippedRule[] = Array.from({ length: 500 }, (_, i) => ({
      ruleId: `r${i}`,
      position: i + 1,
      reasons: i % 100 === 7 ? ["protocol tcp is not udp"] : [`source 100.64.1.1 is not in 100.65.${i}.0/24`],
    }));
    const { shown, hiddenSourceMisses } = pickSkipped(skipped, "100.64.1.1", 10);
    expect(shown).toHaveLength(10);
    expect(hiddenSourceMisses).toBe(490);
    expect(shown.filter((s) => s.reasons[0]?.startsWith("protocol")).map((s) => s.position)).toEqual([
      8, 108, 208, 308, 408,
    ]);
    expect(shown.map((s) => s.position)).toEqual([...shown.map((s) => s.position)].sort((a, b) => a - b));
    expect(pickSkipped(skipped.slice(0, 5), "100.64.1.1", 10)).toEqual({
      shown: skipped.slice(0, 5),
      hiddenSourceMisses: 0,
    });
  });
});

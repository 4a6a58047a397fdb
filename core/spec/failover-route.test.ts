import { describe, expect, it } from "vitest";
import { compileGatewaySpec } from "../policy/compile";
import { examplePolicy } from "../../testkit/policy-fixtures";
import type { Policy, Rule } from "../policy/model";
import { validatePolicy } from "../policy/validate";
import { ruleFailoverView } from "../policy/rule-failover";
import { planSpec } from "../render/plan";
import { decide, type Packet } from "./decide";
import { resolveFailover, specFailoverView } from "./failover-route";

/**
 * One resolution of a failover per rule: follow the ISP's failover, never move, or the rule's own
 * backup ISP and pool. decide, the renderer's plan and the rules page all answer from it.
 */

const view = specFailoverView(
  new Map([
    ["a", { defaultPoolId: "pa", backups: [{ ispId: "b", defaultPoolId: "pb" }] }],
    ["b", { defaultPoolId: "pb", backups: [{ ispId: "a", defaultPoolId: "pa" }] }],
    ["c", { defaultPoolId: "pc", backups: [] }],
  ]),
);
const aDown = new Map([["a", "b"]]);

describe("resolveFailover", () => {
  it("follows the ISP's failover with the rule's fallback pool, else the backup's default pool", () => {
    const follow = { onFailover: "follow" as const, failoverIspId: null, fallbackPoolId: null };
    expect(resolveFailover(view, aDown, "a", follow, "pa")).toMatchObject({
      ispId: "b",
      failedOverFrom: "a",
      poolId: "pb",
      poolSource: "backup-default",
      via: "isp-failover",
    });
    expect(resolveFailover(view, aDown, "a", { ...follow, fallbackPoolId: "pb2" }, "pa")).toMatchObject({
      poolId: "pb2",
      poolSource: "rule-fallback",
    });
    // unmatched traffic follows too
    expect(resolveFailover(view, aDown, "a", null, null)).toMatchObject({ ispId: "b", poolId: null });
  });

  it("keeps a rule that never moves on its failed ISP with its own pool", () => {
    const r = resolveFailover(
      view,
      aDown,
      "a",
      { onFailover: "stay", failoverIspId: null, fallbackPoolId: null },
      "pa",
    );
    expect(r).toEqual({ ispId: "a", failedOverFrom: null, poolId: "pa", poolSource: "stays", via: "none" });
  });

  it("sends an own-backup rule to its own ISP and pool, else that ISP's default pool", () => {
    const own = { onFailover: "own" as const, failoverIspId: "c", fallbackPoolId: "pc2" };
    expect(resolveFailover(view, aDown, "a", own, "pa")).toMatchObject({
      ispId: "c",
      failedOverFrom: "a",
      poolId: "pc2",
      via: "own-backup",
    });
    expect(resolveFailover(view, aDown, "a", { ...own, fallbackPoolId: null }, "pa")).toMatchObject({
      ispId: "c",
      poolId: "pc",
      poolSource: "backup-default",
    });
  });

  it("follows the ISP's failover when the own backup is failed over itself, without the own pool", () => {
    const own = { onFailover: "own" as const, failoverIspId: "c", fallbackPoolId: "pc2" };
    const both = new Map([
      ["a", "b"],
      ["c", "b"],
    ]);
    expect(resolveFailover(view, both, "a", own, "pa")).toMatchObject({
      ispId: "b",
      poolId: "pb",
      via: "isp-failover",
    });
  });

  it("changes nothing while the ISP is not failed over", () => {
    for (const onFailover of ["follow", "stay", "own"] as const) {
      const r = resolveFailover(view, new Map(), "a", { onFailover, failoverIspId: "c", fallbackPoolId: null }, "pa");
      expect(r).toMatchObject({ ispId: "a", failedOverFrom: null, poolId: "pa" });
    }
  });
});

/** The example policy with the office-via-Telia rule set to another behaviour. */
function withOffice(over: Partial<Rule>): Policy {
  const p = examplePolicy();
  p.rules = p.rules.map((r) => (r.id === "rule-office-telia" ? { ...r, ...over } : r));
  return p;
}
const specOf = (p: Policy) =>
  compileGatewaySpec({
    policy: p,
    revision: 1,
    clusterId: "c1",
    clusterName: "edge",
    gateway: { id: "g1", name: "gw1" },
    failover: [],
    failoverEpoch: 0,
  });
const office: Packet = {
  src: "100.64.1.20",
  dst: "203.0.113.99",
  protocol: "tcp",
  srcPort: 40_000,
  dstPort: 443,
  routedIspId: "isp-telia",
};
const teliaDown = new Map([["isp-telia", "isp-cogent"]]);

describe("per-rule failover through decide and the renderer's plan", () => {
  const cases = [
    { name: "follow", over: {}, isp: "isp-cogent", pool: "pool-cogent-main", failedOver: true },
    {
      name: "stay",
      over: { onFailover: "stay" as const },
      isp: "isp-telia",
      pool: "pool-telia-main",
      failedOver: false,
    },
    {
      name: "own",
      over: { onFailover: "own" as const, failoverIspId: "isp-lte" },
      isp: "isp-lte",
      pool: "pool-lte",
      failedOver: true,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: decide and the plan agree on where the rule's traffic goes`, () => {
      const policy = withOffice(c.over);
      expect(validatePolicy(policy)).toEqual([]);
      const spec = specOf(policy);
      const d = decide(spec, teliaDown, office);
      expect(d.verdict).toMatchObject({ kind: "snat", ispId: c.isp, poolId: c.pool });
      expect(d.failedOverFrom !== null).toBe(c.failedOver);
      const plan = planSpec(spec, teliaDown);
      const planned = plan.entries.find((e) => e.entry.ruleId === "rule-office-telia");
      expect(planned?.target.kind).toBe("outcome");
      if (planned?.target.kind !== "outcome") return;
      expect(planned.target.outcome.isp.id).toBe(c.isp);
      expect(planned.target.outcome.nat?.pool.id).toBe(c.pool);
      expect(planned.target.outcome.reroute).toBe(c.failedOver);
      // the other office rule is untouched by this rule's behaviour
      expect(decide(spec, teliaDown, { ...office, routedIspId: "isp-cogent" }).verdict).toMatchObject({
        ispId: "isp-cogent",
        poolId: "pool-cogent-main",
      });
    });
  }
});

describe("ruleFailoverView: the effective failover pool of a rule", () => {
  const rule = (p: Policy) => p.rules.find((r) => r.id === "rule-office-telia") as Rule;
  it("names the backup and where its pool comes from", () => {
    const p = withOffice({});
    const v = ruleFailoverView(p, rule(p));
    expect(v.summary).toBe("cogent / cogent-main (from telia's backup)");
    expect(v.explanation).toBe(
      "When telia fails over, this rule's traffic goes to cogent, telia's backup, with pool cogent-main, cogent's default pool (the rule sets no pool of its own).",
    );
  });
  it("says when the rule's fallback pool wins", () => {
    const p = examplePolicy();
    const r = p.rules.find((x) => x.id === "rule-servers-cogent") as Rule;
    const v = ruleFailoverView(p, r);
    expect(v.summary).toBe("telia / telia-servers (cogent's backup, the rule's fallback pool)");
    expect(v.explanation).toContain("set on this rule (it wins over telia's default pool)");
  });
  it("shows a rule that never moves and a rule with its own backup", () => {
    const stay = withOffice({ onFailover: "stay" });
    expect(ruleFailoverView(stay, rule(stay)).summary).toBe("stays on telia / telia-main (never moves)");
    const own = withOffice({ onFailover: "own", failoverIspId: "isp-lte" });
    expect(ruleFailoverView(own, rule(own)).summary).toBe(
      "lte-backup / lte (the rule's own backup, lte-backup's default pool)",
    );
  });
  it("lists every ISP for a rule that leaves through any ISP", () => {
    const p = withOffice({ egressIspId: null });
    const v = ruleFailoverView(p, rule(p));
    expect(v.cases.map((c) => c.fromName)).toEqual(["telia", "cogent", "lte-backup"]);
    expect(v.summary).toContain("lte-backup: stays on lte-backup (it has no backup ISP)");
  });
});

describe("validation of a rule's failover behaviour", () => {
  const issuesOf = (over: Partial<Rule>) =>
    validatePolicy(withOffice(over))
      .filter((i) => i.id === "rule-office-telia")
      .map((i) => `${i.path.join(".")}: ${i.message}`);
  it("refuses an own backup that is the rule's ISP, or missing", () => {
    expect(issuesOf({ onFailover: "own", failoverIspId: "isp-telia" })).toEqual([
      'failoverIspId: own backup ISP "telia" is the ISP the rule\'s traffic leaves through: pick another ISP',
    ]);
    expect(issuesOf({ onFailover: "own" })).toEqual([
      "failoverIspId: is required when the rule goes to its own backup on failover",
    ]);
    expect(issuesOf({ onFailover: "own", failoverIspId: "isp-nowhere" })).toEqual([
      'failoverIspId: own backup ISP "isp-nowhere" does not exist',
    ]);
  });
  it("refuses a pool that does not belong to the own backup", () => {
    expect(issuesOf({ onFailover: "own", failoverIspId: "isp-lte", fallbackPoolId: "pool-cogent-main" })).toEqual([
      'fallbackPoolId: pool "cogent-main" belongs to ISP "cogent", not to the rule\'s own backup "lte-backup": its addresses would leave through the wrong ISP',
    ]);
  });
  it("refuses an own backup without a pool to use there", () => {
    const p = withOffice({ onFailover: "own", failoverIspId: "isp-lte" });
    (p.isps[2] as { defaultPoolId: string | null }).defaultPoolId = null;
    expect(validatePolicy(p).map((i) => i.message)).toContain(
      'own backup ISP "lte-backup" has no default pool: choose a pool of "lte-backup" for this rule',
    );
  });
  it("refuses never-move together with a backup or a fallback pool", () => {
    expect(issuesOf({ onFailover: "stay", failoverIspId: "isp-lte" })).toEqual([
      "failoverIspId: a rule that never moves cannot have its own backup ISP: choose one or the other",
    ]);
    expect(issuesOf({ onFailover: "stay", fallbackPoolId: "pool-cogent-main" })).toEqual([
      "fallbackPoolId: a rule that never moves keeps its own pool: it cannot have a fallback pool",
    ]);
    expect(issuesOf({ failoverIspId: "isp-lte" })).toEqual([
      "failoverIspId: an own backup ISP applies only when the rule's traffic goes to its own backup on failover",
    ]);
  });
});

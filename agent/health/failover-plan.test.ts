import { describe, expect, it } from "vitest";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import { type ActiveFailover, failoverStateOf, type PlanInput, planFailover } from "./failover-plan";
import type { LinkState } from "../../core/health/link-state";

function spec(overrides: Partial<Record<"a" | "b" | "c", Partial<SpecIsp>>> = {}): GatewaySpec {
  const auto = { failoverMode: "automatic" as const, failbackMode: "automatic" as const };
  return gatewaySpec({
    isps: [
      {
        ...isp("a", 1, "ispa", "100.65.1.2", [
          { ispId: "b", defaultPoolId: "pb" },
          { ispId: "c", defaultPoolId: null },
        ]),
        ...auto,
        ...overrides.a,
      },
      { ...isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa" }]), ...auto, ...overrides.b },
      { ...isp("c", 3, "ispc", "100.65.3.2"), ...overrides.c },
    ],
    pools: [pool("pa", "a", ["198.51.100.10"]), pool("pb", "b", ["198.51.100.130"])],
    entries: [],
  });
}

const health = (h: Record<string, LinkState>) => new Map(Object.entries(h));

function plan(input: Partial<PlanInput> & { spec: GatewaySpec }) {
  return planFailover({ health: new Map(), previous: new Map(), held: new Set(), now: 1000, ...input });
}

const on = (backupIspId: string, mode: ActiveFailover["mode"] = "automatic", since = 0): ActiveFailover => ({
  backupIspId,
  mode,
  since,
});

describe("failover plan", () => {
  it("fails a down automatic ISP over to its first healthy backup, and back when it is up", () => {
    const s = spec();
    const down = plan({ spec: s, health: health({ a: "down", b: "up", c: "up" }) });
    expect(failoverStateOf(down.active)).toEqual(new Map([["a", "b"]]));
    expect(down.active.get("a")).toEqual({ backupIspId: "b", mode: "automatic", since: 1000 });
    expect(down.alerts).toEqual([]);

    const up = plan({ spec: s, health: health({ a: "up", b: "up" }), previous: down.active });
    expect(up.active.size).toBe(0);
  });

  it("keeps an automatic failover while the ISP is unknown (prober restarting) and while it is held", () => {
    const s = spec();
    const previous = new Map([["a", on("b")]]);
    expect(plan({ spec: s, health: health({ b: "up" }), previous }).active.get("a")?.backupIspId).toBe("b");
    const manual = spec({ a: { failbackMode: "manual" } });
    const held = plan({ spec: manual, health: health({ a: "up", b: "up" }), previous, held: new Set(["a"]) });
    expect(held.active.get("a")).toEqual(on("b"));
  });

  it("never uses a backup that is down: the next healthy one, else nothing and an alert", () => {
    const s = spec();
    expect(failoverStateOf(plan({ spec: s, health: health({ a: "down", b: "down", c: "up" }) }).active)).toEqual(
      new Map([["a", "c"]]),
    );
    const none = plan({ spec: s, health: health({ a: "down", b: "down", c: "down" }) });
    expect(none.active.size).toBe(0);
    expect(none.alerts).toEqual([
      {
        ispId: "a",
        kind: "no_healthy_backup",
        message: "a is down, but no backup can take its traffic (b is down, c is down); nothing was changed",
      },
      {
        ispId: "b",
        kind: "no_healthy_backup",
        message: "b is down, but no backup can take its traffic (a is down); nothing was changed",
      },
    ]);
  });

  it("changes nothing when the backup in use dies and no other is healthy", () => {
    const s = spec();
    const r = plan({
      spec: s,
      health: health({ a: "down", b: "down", c: "down" }),
      previous: new Map([["a", on("c")]]),
    });
    expect(r.active.get("a")).toEqual(on("c"));
    expect(r.alerts[0]?.message).toMatch(/its traffic stays on c$/);
  });

  it("moves off a backup that went down when another is healthy", () => {
    const s = spec();
    const r = plan({ spec: s, health: health({ a: "down", b: "up", c: "down" }), previous: new Map([["a", on("c")]]) });
    expect(r.active.get("a")).toEqual({ backupIspId: "b", mode: "automatic", since: 1000 });
  });

  it("stays on the backup in use rather than moving flows again when an earlier one recovers", () => {
    const s = spec();
    const r = plan({ spec: s, health: health({ a: "down", b: "up", c: "up" }), previous: new Map([["a", on("c")]]) });
    expect(r.active.get("a")).toEqual(on("c"));
  });

  it("follows an operator's failover to the chosen backup, or the first healthy one; unknown is not down", () => {
    expect(
      failoverStateOf(plan({ spec: spec({ a: { adminState: "failed_over", adminBackupIspId: "c" } }) }).active),
    ).toEqual(new Map([["a", "c"]]));
    const chosenDown = plan({
      spec: spec({ a: { adminState: "failed_over", adminBackupIspId: "c" } }),
      health: health({ c: "down" }),
    });
    expect(failoverStateOf(chosenDown.active)).toEqual(new Map([["a", "b"]]));
    expect(plan({ spec: spec({ a: { adminState: "failed_over" } }) }).active.get("a")?.mode).toBe("admin");
  });

  it("does not fail over manual ISPs on their own, nor ISPs without backups", () => {
    const s = spec({ a: { failoverMode: "manual" } });
    expect(plan({ spec: s, health: health({ a: "down", b: "up" }) }).active.size).toBe(0);
    const lonely = plan({ spec: spec({ c: { failoverMode: "automatic" } }), health: health({ c: "down" }) });
    expect(lonely.active.size).toBe(0);
    expect(lonely.alerts[0]?.message).toMatch(/c is down, but it has no backups in its failover plan/);
  });

  it("does not chain: a backup that is failed over itself is skipped", () => {
    const s = spec({ b: { adminState: "failed_over" } });
    const r = plan({ spec: s, health: health({ a: "down", b: "up", c: "up" }) });
    expect(failoverStateOf(r.active)).toEqual(new Map([["a", "c"]]));
    // b's own failover would go to a, which is down: b keeps its traffic and says why
    expect(r.alerts.map((a) => [a.ispId, a.message])).toEqual([
      ["b", "an operator failed b over, but no backup can take its traffic (a is down); nothing was changed"],
    ]);
  });
});

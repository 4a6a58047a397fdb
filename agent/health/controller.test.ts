import pino from "pino";
import { describe, expect, it } from "vitest";
import { renderNft } from "../../core/render/nft";
import type { ApplyResult } from "../apply/apply-spec";
import { Datapath } from "../apply/datapath";
import { FakeRunner } from "../../testkit/fakes/runner";
import { entry, gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import { type FailoverEvent, FailoverController } from "./controller";
import type { LinkState, Transition } from "../../core/health/link-state";

function specOf(a: Partial<SpecIsp> = {}, failoverEpoch = 0): GatewaySpec {
  return {
    ...gatewaySpec({
      isps: [
        {
          ...isp("a", 1, "ispa", "100.65.1.2", [{ ispId: "b", defaultPoolId: "pb" }]),
          failoverMode: "automatic",
          failbackMode: "automatic",
          ...a,
        },
        isp("b", 2, "ispb", "100.65.2.2", [{ ispId: "a", defaultPoolId: "pa" }]),
      ],
      pools: [pool("pa", "a", ["198.51.100.10"]), pool("pb", "b", ["198.51.100.130"])],
      entries: [entry("100.64.0.0/16", { snat: "pa" })],
    }),
    failoverEpoch,
  };
}

const okResult = (spec: GatewaySpec, failover: FailoverState): ApplyResult => ({
  ok: true,
  stage: null,
  error: null,
  revision: spec.revision,
  failoverEpoch: spec.failoverEpoch,
  fingerprint: 1,
  loaded: true,
  objects: objectsOf(renderNft(spec, failover)),
  routeChanges: [],
  durations: { validateMs: 1, renderMs: 1, checkMs: 1, applyMs: 1, verifyMs: 1, routesMs: 1, totalMs: 6 },
});

function setup() {
  const runner = new FakeRunner()
    .on(["conntrack", "-D"], {
      code: 0,
      stderr: "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted.\n",
    })
    .on(["nft", "-f", "-"], { code: 0 })
    // the route check after a failover: the LAN source, then the marked route through the backup
    .on(["ip", "-4", "-j", "route", "get"], (args) => ({
      stdout: args.includes("mark")
        ? JSON.stringify([{ dst: args[5], gateway: "100.65.2.2", dev: "ispb" }])
        : JSON.stringify([{ dst: args[5], dev: "lan0" }]),
    }));
  const health = new Map<string, LinkState>([
    ["a", "up"],
    ["b", "up"],
  ]);
  const applied: FailoverState[] = [];
  const events: FailoverEvent[] = [];
  let clock = 10_000;
  let switched = 0;
  const datapath = new Datapath({
    runner,
    apply: async (spec, failover) => {
      applied.push(new Map(failover));
      return okResult(spec, failover);
    },
  });
  const controller = new FailoverController({
    datapath,
    health: () => health,
    log: pino({ level: "silent" }),
    onEvent: (e) => events.push(e),
    onSwitched: () => switched++,
    now: () => clock,
    newId: () => `e${events.length + 1}`,
  });
  const down = (id: string, lastGoodAt = clock - 250): Transition => {
    health.set(id, "down");
    return { from: "up", to: "down", at: clock, reason: "2 probe rounds lost in a row", lastGoodAt };
  };
  const up = (id: string): Transition => {
    health.set(id, "up");
    return { from: "down", to: "up", at: clock, reason: "answered 5 probe rounds in a row", lastGoodAt: clock };
  };
  const settle = () => controller.applySpec(specOf()).then(() => undefined);
  return {
    runner,
    health,
    applied,
    events,
    controller,
    down,
    up,
    settle,
    tick: (ms: number) => {
      clock += ms;
    },
    switched: () => switched,
  };
}

const drain = (c: FailoverController) => c.idle();

describe("local failover controller", () => {
  it("switches on its own when an automatic ISP goes down: one nft load, then a's connections flushed", async () => {
    const t = setup();
    await t.controller.applySpec(specOf());
    expect(t.applied).toEqual([new Map()]);
    t.runner.calls.length = 0;

    t.controller.healthChanged("a", t.down("a"));
    t.tick(30);
    await drain(t.controller);
    const commands = t.runner.commands();
    expect(commands.slice(0, 2)).toEqual(["nft -f -", "conntrack -D -m 0x1/0xff"]);
    // the quick switch re-renders the running spec with a failed over to b
    expect(t.runner.calls[0]?.input).toMatch(/failed over from a/);
    const failover = t.events.find((e) => e.kind === "failover");
    expect(failover).toMatchObject({
      ispId: "a",
      fromIspId: null,
      toIspId: "b",
      mode: "automatic",
      reason: "2 probe rounds lost in a row",
      ok: true,
      timings: { detectMs: 250, flushed: 3 },
    });
    expect(t.controller.snapshot().active.get("a")?.backupIspId).toBe("b");
    expect(t.switched()).toBe(1);

    // a later spec from the console is applied with the local failover in it
    expect(t.applied).toEqual([new Map()]);
    t.runner.calls.length = 0;
    await t.controller.applySpec({ ...specOf({}, 1), revision: 2 });
    expect(t.applied.at(-1)).toEqual(new Map([["a", "b"]]));
    // a change of failover state alone is one quick load, with the local failover kept
    const outcome = await t.controller.applySpec({ ...specOf({}, 2), revision: 2 });
    expect(outcome).toMatchObject({ ok: true, loaded: true });
    expect(t.applied).toHaveLength(2);
    expect(t.runner.calls.at(-1)?.input).toMatch(/failed over from a/);
  });

  it("fails back automatically once the ISP is up, flushing the moved flows only when asked to", async () => {
    const t = setup();
    await t.controller.applySpec(specOf({ flushOnFailback: true }));
    t.controller.healthChanged("a", t.down("a"));
    await drain(t.controller);
    t.runner.calls.length = 0;
    t.controller.healthChanged("a", t.up("a"));
    await drain(t.controller);
    expect(t.runner.commands().slice(0, 2)).toEqual(["nft -f -", "conntrack -D -m 0x802/0x8ff"]);
    expect(t.events.filter((e) => e.kind === "failback")).toHaveLength(1);
    expect(t.controller.snapshot().active.size).toBe(0);
  });

  it("holds an automatic failover with manual failback until an operator restores the ISP", async () => {
    const t = setup();
    const manual = { failbackMode: "manual" as const };
    await t.controller.applySpec(specOf(manual, 4));
    t.controller.healthChanged("a", t.down("a"));
    await drain(t.controller);
    t.controller.healthChanged("a", t.up("a"));
    await drain(t.controller);
    expect(t.controller.snapshot().held).toEqual(new Set(["a"]));
    expect(t.controller.snapshot().active.get("a")?.backupIspId).toBe("b");
    const backupOfA = () => t.controller.snapshot().active.get("a")?.backupIspId;
    await t.controller.applySpec({ ...specOf(manual, 4), revision: 2 });
    expect(t.applied.at(-1)).toEqual(new Map([["a", "b"]]));
    // another failover epoch that is not a restore of a keeps the hold
    await t.controller.applySpec({ ...specOf({ ...manual, restoredEpoch: 3 }, 5), revision: 2 });
    expect(backupOfA()).toBe("b");
    await t.controller.applySpec({ ...specOf({ ...manual, restoredEpoch: 6 }, 6), revision: 2 });
    expect(backupOfA()).toBeUndefined();
    expect(t.controller.snapshot().held.size).toBe(0);
    expect(t.events.find((e) => e.kind === "failback")?.reason).toBe("restored by an operator (failover epoch 6)");
  });

  it("changes nothing and raises an alert when the backup is down too", async () => {
    const t = setup();
    await t.controller.applySpec(specOf());
    t.health.set("b", "down");
    t.runner.calls.length = 0;
    t.controller.healthChanged("a", t.down("a"));
    await drain(t.controller);
    expect(t.runner.commands().filter((c) => c.startsWith("nft") || c.startsWith("conntrack"))).toEqual([]);
    expect(t.applied.every((s) => s.size === 0)).toBe(true);
    const alert = t.events.find((e) => e.kind === "alert");
    expect(alert?.reason).toMatch(/a is down, but no backup can take its traffic \(b is down\); nothing was changed/);
    // the alert is raised once, and cleared when a backup is usable again
    t.controller.healthChanged("b", t.up("b"));
    await drain(t.controller);
    expect(t.events.filter((e) => e.kind === "alert")).toHaveLength(1);
    expect(t.events.map((e) => e.kind)).toContain("alert_cleared");
    expect(t.controller.snapshot().active.get("a")?.backupIspId).toBe("b");
  });

  it("flushes a's connections when an operator fails it over, and reports the switch as the operator's", async () => {
    const t = setup();
    await t.controller.applySpec(specOf({ failoverMode: "manual" }));
    await t.controller.applySpec(specOf({ failoverMode: "manual", adminState: "failed_over" }, 1));
    expect(t.controller.snapshot().active.get("a")).toMatchObject({ backupIspId: "b", mode: "admin" });
    expect(t.runner.commands()).toContain("nft -f -");
    expect(t.runner.commands()).toContain("conntrack -D -m 0x1/0xff");
    expect(t.events.at(-1)).toMatchObject({
      kind: "failover",
      mode: "admin",
      reason: "failed over by an operator (failover epoch 1)",
    });
  });

  it("reports a failover that an operator ip rule keeps from taking effect as not applied", async () => {
    const t = setup();
    await t.controller.applySpec(specOf());
    // an operator rule before Gatehouse's sends the marked traffic out through a all the same
    t.runner.on(["ip", "-4", "-j", "route", "get"], (args) => ({
      stdout: args.includes("mark")
        ? JSON.stringify([{ dst: args[5], gateway: "100.65.1.2", dev: "ispa" }])
        : JSON.stringify([{ dst: args[5], dev: "lan0" }]),
    }));
    t.controller.healthChanged("a", t.down("a"));
    await drain(t.controller);
    expect(t.runner.commands()).toContain("ip -4 -j route get 203.0.113.1 from 100.64.0.1 iif lan0 mark 0x102");
    const failover = t.events.find((e) => e.kind === "failover");
    expect(failover?.ok).toBe(false);
    expect(failover?.error).toMatch(
      /^not in effect: 100\.64\.0\.1 -> 203\.0\.113\.1 marked for b leaves by ispa via 100\.65\.1\.2, not ispb/,
    );
  });

  it("falls back to a full apply when the quick switch is refused, and reports a switch that did not happen", async () => {
    const t = setup();
    await t.controller.applySpec(specOf());
    t.runner.on(["nft", "-f", "-"], { code: 1, stderr: "Error: something" });
    t.controller.healthChanged("a", t.down("a"));
    await drain(t.controller);
    expect(t.applied).toEqual([new Map(), new Map([["a", "b"]])]);
    expect(t.events.find((e) => e.kind === "failover")?.ok).toBe(true);
  });
});

function objectsOf(r: ReturnType<typeof renderNft>) {
  return { chains: r.chains, maps: r.maps, sets: r.sets };
}

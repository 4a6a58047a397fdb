import { describe, expect, it } from "vitest";
import type { LinkState } from "../../core/health/link-state";
import { compileHa } from "../../core/policy/compile-ha";
import { HA_GATEWAYS, haPolicy } from "../../testkit/ha-fixtures";
import { conntrackdSteps, effectivePriority, HaTracker, linkWeightValue, parseNotifyLine } from "./decide";

const policy = haPolicy("active_standby");
const ha = compileHa({
  policy,
  gateways: HA_GATEWAYS,
  gatewayId: "gw-a",
  addressesOf: () => ["198.51.100.10", "198.51.100.11"],
});
if (ha === null) throw new Error("the fixture has high availability");
const links = (...states: LinkState[]) => new Map(states.map((s, i) => [`isp${i}`, s]));
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe("parseNotifyLine", () => {
  it("reads group and instance lines, with the instance's priority", () => {
    expect(parseNotifyLine('GROUP "cluster" MASTER')).toEqual({
      kind: "group",
      name: "cluster",
      state: "master",
      priority: null,
    });
    expect(parseNotifyLine('INSTANCE "isp1" BACKUP 100\n')).toEqual({
      kind: "instance",
      name: "isp1",
      state: "backup",
      priority: 100,
    });
    expect(parseNotifyLine('GROUP "g61" FAULT')?.state).toBe("fault");
    expect(parseNotifyLine('INSTANCE "lan" STOP 0')?.state).toBe("stopped");
  });

  it("ignores what it does not know", () => {
    expect(parseNotifyLine('RS "1.2.3.4" UP')).toBeNull();
    expect(parseNotifyLine('GROUP "x" PRIMARY')).toBeNull();
    expect(parseNotifyLine("")).toBeNull();
  });
});

describe("linkWeightValue", () => {
  it("counts the links that are down", () => {
    expect(linkWeightValue(ha, links("up", "up"))).toBe(0);
    expect(linkWeightValue(ha, links("down", "degraded"))).toBe(1);
    expect(linkWeightValue(ha, links("unknown", "up"))).toBe(0);
  });

  it("reaches keepalived's fault threshold when every link is down", () => {
    const value = linkWeightValue(ha, links("down", "down"));
    expect(value * ha.trackLinkWeight).toBeGreaterThanOrEqual(254);
    expect(linkWeightValue({ ...ha, trackLinkWeight: 200 }, links("down", "down"))).toBe(2);
  });

  it("writes nothing without tracking or links", () => {
    expect(linkWeightValue({ ...ha, trackLinkWeight: 0 }, links("down", "down"))).toBe(0);
    expect(linkWeightValue(ha, new Map())).toBe(0);
  });

  it("lowers the priority within keepalived's range", () => {
    expect(effectivePriority({ ...ha, trackLinkWeight: 50 }, 150, 1)).toBe(100);
    expect(effectivePriority({ ...ha, trackLinkWeight: 50 }, 150, 6)).toBe(1);
  });
});

describe("conntrackdSteps", () => {
  it("commits, flushes, resyncs and sends a bulk update on promotion; shortens timers and asks for a resync on demotion", () => {
    expect(conntrackdSteps("master")).toEqual(["-c", "-f", "-R", "-B"]);
    expect(conntrackdSteps("backup")).toEqual(["-t", "-n"]);
    expect(conntrackdSteps("fault")).toEqual(["-t"]);
    expect(conntrackdSteps("stopped")).toEqual([]);
  });

  it("leaves the kernel's timers alone while the gateway is still master of another group", () => {
    expect(conntrackdSteps("backup", true)).toEqual(["-n"]);
    expect(conntrackdSteps("fault", true)).toEqual([]);
    expect(conntrackdSteps("master", true)).toEqual(["-c", "-f", "-R", "-B"]);
  });
});

describe("HaTracker", () => {
  it("records a group's transitions once, with when it entered its state", () => {
    const t = new HaTracker();
    t.configure(ha, 0);
    expect(t.groupStatus()).toEqual([{ name: "cluster", state: "unknown", since: null, effectivePriority: 150 }]);
    expect(t.notify({ kind: "group", name: "cluster", state: "backup", priority: null }, at(1))).toMatchObject({
      from: "unknown",
      to: "backup",
    });
    expect(t.notify({ kind: "group", name: "cluster", state: "backup", priority: null }, at(2))).toBeNull();
    const up = t.notify({ kind: "group", name: "cluster", state: "master", priority: null }, at(3));
    expect(up).toMatchObject({ group: "cluster", from: "backup", to: "master", commitMs: null, error: "" });
    expect(t.groupStatus()[0]).toMatchObject({ state: "master", since: at(3).toISOString() });
    expect(t.transitionList()).toHaveLength(2);
    expect(t.anyMaster()).toBe(true);
  });

  it("takes instance priorities and ignores groups it does not run", () => {
    const t = new HaTracker();
    t.configure(ha, 0);
    expect(t.notify({ kind: "instance", name: "lan", state: "master", priority: 100 }, at(1))).toBeNull();
    expect(t.groupStatus()[0]?.effectivePriority).toBe(100);
    expect(t.notify({ kind: "group", name: "other", state: "master", priority: null }, at(1))).toBeNull();
  });

  it("marks every group stopped when keepalived is gone, and keeps states across a new spec", () => {
    const t = new HaTracker();
    t.configure(ha, 0);
    t.notify({ kind: "group", name: "cluster", state: "master", priority: null }, at(1));
    t.configure({ ...ha, trackLinkWeight: 60 }, 1);
    expect(t.groupStatus()[0]).toMatchObject({ state: "master", effectivePriority: 90 });
    expect(t.stopped(at(2)).map((x) => [x.from, x.to])).toEqual([["master", "stopped"]]);
  });

  it("keeps the last fifty transitions", () => {
    const t = new HaTracker();
    t.configure(ha, 0);
    for (let i = 0; i < 60; i++) {
      t.notify({ kind: "group", name: "cluster", state: i % 2 === 0 ? "master" : "backup", priority: null }, at(i));
    }
    expect(t.transitionList()).toHaveLength(50);
    expect(t.transitionList().at(-1)?.to).toBe("backup");
  });
});

import { describe, expect, it } from "vitest";
import type { PoolAddressUsage } from "../protocol/health-report";
import {
  addressFillPct,
  conntrackFillPct,
  decidePoolUsageIncidents,
  describeForecast,
  describePoolUsageIncident,
  forecastFull,
  portRangeSize,
  usageLevel,
} from "./port-usage";

const usage = (connections: number, ports = 100, address = "198.51.100.10"): PoolAddressUsage => ({
  poolId: "pool1",
  address,
  ports,
  tcp: connections,
  udp: 0,
  other: 0,
  busiest: connections === 0 ? null : { protocol: "tcp", destination: "203.0.113.10", port: 80, connections },
});

describe("fill", () => {
  it("counts the port range, the kernel default without one", () => {
    expect(portRangeSize({ from: 20000, to: 20099 })).toBe(100);
    expect(portRangeSize(null)).toBe(64512);
  });
  it("is the busiest destination's share of the range", () => {
    expect(addressFillPct(usage(80))).toBe(80);
    expect(addressFillPct(usage(0))).toBe(0);
    expect(addressFillPct(usage(150))).toBe(100);
    expect(conntrackFillPct({ count: 50, max: 200 })).toBe(25);
    expect(conntrackFillPct({ count: 50, max: null })).toBeNull();
  });
});

describe("usageLevel", () => {
  it("warns from 80% and alerts from 95%", () => {
    expect(usageLevel(79.9)).toBe("ok");
    expect(usageLevel(80)).toBe("warning");
    expect(usageLevel(94.9)).toBe("warning");
    expect(usageLevel(95)).toBe("alert");
  });
  it("holds a level until the fill is 5 points below its threshold", () => {
    expect(usageLevel(76, "warning")).toBe("warning");
    expect(usageLevel(74.9, "warning")).toBe("ok");
    expect(usageLevel(91, "alert")).toBe("alert");
    expect(usageLevel(89, "alert")).toBe("warning");
    expect(usageLevel(91, "warning")).toBe("warning");
  });
});

describe("forecastFull", () => {
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  it("extends the growth of the window to 100%", () => {
    // 1 point per minute, from 50%: 50 points left
    const points = [0, 1, 2, 3].map((m) => ({ at: t0 + m * 60_000, pct: 50 + m }));
    const f = forecastFull(points);
    expect(f.kind).toBe("filling");
    if (f.kind !== "filling") return;
    expect(f.ms / 60_000).toBeCloseTo(47, 5);
    expect(describeForecast(f)).toBe("full in about 47 min at the current growth");
  });
  it("says when it does not grow, is full, or has too little history", () => {
    expect(forecastFull([0, 1, 2].map((m) => ({ at: t0 + m * 60_000, pct: 30 - m })))).toEqual({
      kind: "not_growing",
    });
    expect(describeForecast(forecastFull([{ at: t0, pct: 100 }]))).toBe("full now");
    expect(describeForecast({ kind: "filling", ms: 20_000, pctPerMinute: 30 })).toBe(
      "full in under a minute at the current growth",
    );
    expect(describeForecast({ kind: "filling", ms: 3 * 3_600_000, pctPerMinute: 0.1 })).toBe(
      "full in about 3 h at the current growth",
    );
    expect(
      forecastFull([
        { at: t0, pct: 1 },
        { at: t0 + 1000, pct: 2 },
      ]).kind,
    ).toBe("unknown");
    expect(forecastFull([]).kind).toBe("unknown");
  });
  it("ignores history older than its window", () => {
    const old = [0, 1, 2].map((m) => ({ at: t0 + m * 60_000, pct: 10 + m * 20 }));
    const flat = [60, 61, 62, 63].map((m) => ({ at: t0 + m * 60_000, pct: 50 }));
    expect(forecastFull([...old, ...flat]).kind).toBe("not_growing");
  });
});

describe("decidePoolUsageIncidents", () => {
  it("opens a warning, turns it into an alert, and resolves once", () => {
    const a = decidePoolUsageIncidents("gw1", [], [usage(50)]);
    expect(a).toEqual({ open: [], opened: [], resolved: [] });
    const b = decidePoolUsageIncidents("gw1", a.open, [usage(85)]);
    expect(b.opened.map((i) => i.level)).toEqual(["warning"]);
    expect(b.opened[0]).toMatchObject({ pct: 85, toward: "tcp 203.0.113.10:80", address: "198.51.100.10" });
    const same = decidePoolUsageIncidents("gw1", b.open, [usage(88)]);
    expect(same.opened).toEqual([]);
    expect(same.resolved).toEqual([]);
    expect(same.open).toEqual(b.open);
    const c = decidePoolUsageIncidents("gw1", same.open, [usage(97)]);
    expect(c.opened.map((i) => i.level)).toEqual(["alert"]);
    expect(c.resolved.map((i) => i.level)).toEqual(["warning"]);
    const d = decidePoolUsageIncidents("gw1", c.open, [usage(10)]);
    expect(d.open).toEqual([]);
    expect(d.resolved.map((i) => i.key)).toEqual(c.open.map((i) => i.key));
  });
  it("resolves the incident of an address no longer reported", () => {
    const open = decidePoolUsageIncidents("gw1", [], [usage(99)]).open;
    expect(decidePoolUsageIncidents("gw1", open, []).resolved).toEqual(open);
  });
  it("describes incidents in words", () => {
    const [i] = decidePoolUsageIncidents("gw1", [], [usage(96)]).open;
    if (i === undefined) throw new Error("no incident");
    expect(describePoolUsageIncident(i, { gateway: "gw-a", pool: "isp-a" })).toMatch(
      /^Port usage alert: pool "isp-a" address 198.51.100.10 on gateway "gw-a" has 96% of its ports in use toward tcp 203.0.113.10:80/,
    );
    expect(describePoolUsageIncident(i, { gateway: "gw-a", pool: "isp-a" }, "resolved")).toMatch(/back below/);
  });
});

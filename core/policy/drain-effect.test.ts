import { describe, expect, it } from "vitest";
import { HA_GATEWAYS, haPolicy } from "../../testkit/ha-fixtures";
import { poolAddresses } from "./compile";
import { describeDrainEffect, drainEffect } from "./drain-effect";

const base = { gateways: HA_GATEWAYS, addressesOf: poolAddresses, masters: new Map<string, string>() };

describe("drainEffect", () => {
  it("moves the active/standby group from the master to its peer", () => {
    const moves = drainEffect({ ...base, policy: haPolicy(), gatewayId: "gw-a", drain: true });
    expect(moves.map((m) => [m.group, m.from, m.to, m.addresses.length])).toEqual([["cluster", "gw-a", "gw-b", 11]]);
    expect(moves[0]?.addresses.slice(0, 2)).toEqual(["100.64.0.1/24", "198.51.100.4/24"]);
    const text = describeDrainEffect(moves, (id) => id, { drain: true, gatewayName: "gw-a", preempt: false });
    expect(text).toEqual([
      'Group "cluster": 100.64.0.1/24, 198.51.100.4/24, 198.51.100.10/32 and 8 more move from "gw-a" to "gw-b".',
    ]);
  });

  it("moves nothing when the drained gateway is a backup, as the reports say", () => {
    const masters = new Map([["cluster", "gw-b"]]);
    expect(drainEffect({ ...base, masters, policy: haPolicy(), gatewayId: "gw-a", drain: true })).toEqual([]);
  });

  it("moves only the drained gateway's own group in active/active", () => {
    const moves = drainEffect({ ...base, policy: haPolicy("active_active"), gatewayId: "gw-b", drain: true });
    expect(moves.map((m) => [m.group, m.from, m.to])).toEqual([["g62", "gw-b", "gw-a"]]);
  });

  it("gives groups back on return only with preempt", () => {
    const drained = HA_GATEWAYS.map((g) => (g.id === "gw-a" ? { ...g, drained: true } : g));
    const masters = new Map([["cluster", "gw-b"]]);
    const off = drainEffect({
      ...base,
      gateways: drained,
      masters,
      policy: haPolicy(),
      gatewayId: "gw-a",
      drain: false,
    });
    expect(off).toEqual([]);
    const p = haPolicy();
    p.settings.ha.preempt = true;
    const on = drainEffect({ ...base, gateways: drained, masters, policy: p, gatewayId: "gw-a", drain: false });
    expect(on.map((m) => [m.from, m.to])).toEqual([["gw-b", "gw-a"]]);
  });
});

import { describe, expect, it } from "vitest";
import { examplePolicy } from "@/testkit/policy-fixtures";
import { checkGuardInterfaces } from "./guard-interfaces";

const policy = examplePolicy();
const check = (lan: string, internal: string) => checkGuardInterfaces({ lan, internal }, policy.settings, policy.isps);

describe("checkGuardInterfaces", () => {
  it("reads lists separated by commas, spaces or lines", () => {
    expect(check("lan0, lan1\nvlan.20", " dmz0 ")).toEqual({
      ok: true,
      value: { lanInterfaces: ["lan0", "lan1", "vlan.20"], internalInterfaces: ["dmz0"] },
    });
    expect(check("", "")).toEqual({ ok: true, value: { lanInterfaces: [], internalInterfaces: [] } });
  });

  it("names the field and the interface of a name Linux would refuse", () => {
    const r = check("lan0 a-name-longer-than-15", "bad/name");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.byField.lanInterfaces).toEqual(["LAN interface 2 must be at most 15 characters (the Linux limit)"]);
    expect(r.errors.byField.internalInterfaces?.[0]).toMatch(/^Internal interface 1 may contain only letters/);
  });

  it("refuses an ISP's uplink or an interface listed twice, with the publish check's words", () => {
    const r = check("lan0 eth1", "lan0");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.byField.lanInterfaces).toEqual(['Interface eth1 is ISP "telia"\'s uplink, so it cannot be LAN']);
    expect(r.errors.byField.internalInterfaces).toEqual(["Interface lan0 is a LAN interface already"]);
  });
});

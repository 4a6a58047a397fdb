import { describe, expect, it } from "vitest";
import { defaultGatewaySettings } from "@/core/policy/ha";
import { entryIssues, gatewayFormText, gatewayLinkKey, groupGatewayIssues, readGatewayForm } from "./gateway-ha-form";

const { gatewayId: _, ...defaults } = defaultGatewaySettings("gw-a");

describe("a gateway's links and high-availability form", () => {
  it("keeps only the links with a value of the gateway's own, and reads back what it was filled from", () => {
    const settings = {
      ...defaults,
      lanInterface: "eth0",
      lanAddress: "100.64.0.2/24",
      priority: 150,
      links: [{ ispId: "b", interface: "ens3", nextHop: null, localAddress: "203.0.113.2/26", floatingAddress: null }],
    };
    const text = gatewayFormText(settings);
    expect(readGatewayForm(text, ["a", "b"])).toEqual({ ok: true, value: settings });
    const cleared = {
      ...text,
      links: { ...text.links, b: { interface: "", nextHop: "", localAddress: "", floatingAddress: "" } },
    };
    expect(readGatewayForm(cleared, ["a", "b"])).toEqual({ ok: true, value: { ...settings, links: [] } });
  });

  it("names the bad field, a link's by its ISP", () => {
    const text = gatewayFormText(defaults);
    const read = readGatewayForm(
      {
        ...text,
        priority: "250",
        lanAddress: "100.64.0.2",
        links: { b: { interface: "", nextHop: "nope", localAddress: "", floatingAddress: "" } },
      },
      ["a", "b"],
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.byField.priority).toEqual([
      "VRRP priority must be 249 or less (250 is an active/active gateway's own group)",
    ]);
    expect(read.errors.byField.lanAddress?.[0]).toMatch(/^Own LAN address /);
    expect(read.errors.byField[gatewayLinkKey("b", "nextHop")]?.[0]).toMatch(/^Next hop /);
  });

  it("places the draft's issues about the gateway's entry at their field", () => {
    const issues = entryIssues([
      {
        path: ["gateways", 3, "lanInterface"],
        message: 'gateway "gw-a" needs its LAN interface for high availability',
      },
      { path: ["gateways", 3, "links", 0, "localAddress"], message: 'gateway "gw-a" needs its own address on ISP "x"' },
      { path: ["gateways"], message: 'gateway "gw-a" needs its LAN interface for high availability' },
    ]);
    const grouped = groupGatewayIssues(issues, [{ ispId: "x" }], true);
    expect(grouped.byField).toEqual({
      lanInterface: ['Gateway "gw-a" needs its LAN interface for high availability'],
      [gatewayLinkKey("x", "localAddress")]: ['Gateway "gw-a" needs its own address on ISP "x"'],
    });
    expect(grouped.other).toEqual(['Gateway "gw-a" needs its LAN interface for high availability']);
  });
});

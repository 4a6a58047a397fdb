import { describe, expect, it } from "vitest";
import { standaloneHa } from "@/core/policy/ha";
import { groupHaIssues, haFormText, linkFieldKey, readHaForm } from "./ha-form";

describe("the high-availability form", () => {
  it("reads the texts back into the settings it was filled from", () => {
    const ha = {
      ...standaloneHa(),
      mode: "active_standby" as const,
      lanVirtualAddress: "100.64.0.1/24",
      preempt: true,
      sync: { enabled: true, interface: "sync0" },
      links: [{ ispId: "b", vrid: 53, floatingAddress: "203.0.113.4/26" }],
    };
    const read = readHaForm(haFormText(ha), ["a", "b"]);
    expect(read).toEqual({ ok: true, value: ha });
  });

  it("names the field of a bad value, and a link's field by its ISP", () => {
    const text = haFormText(standaloneHa());
    const read = readHaForm(
      {
        ...text,
        mode: "active_standby",
        lanVirtualAddress: "100.64.0.1",
        advertIntervalMs: "15",
        links: { a: { vrid: "", floatingAddress: "198.51.100.4/24" }, b: { vrid: "300", floatingAddress: "" } },
      },
      ["a", "b"],
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.errors.byField["ha.lanVirtualAddress"]?.[0]).toMatch(/^LAN virtual address /);
    expect(read.errors.byField["ha.advertIntervalMs"]).toEqual([
      "Advert interval (ms) must be a multiple of 10 ms (VRRPv3 counts in centiseconds)",
    ]);
    expect(read.errors.byField[linkFieldKey("a", "vrid")]).toEqual(["VRID is required for a floating address"]);
    expect(read.errors.byField[linkFieldKey("b", "vrid")]).toEqual(["VRID must be 255 or less"]);
  });

  it("places the draft's issues at the ISP its link entry is about", () => {
    const grouped = groupHaIssues(
      [
        { path: ["ha", "lanVirtualAddress"], message: "LAN virtual address is required in active/standby mode" },
        { path: ["ha", "links", 1, "floatingAddress"], message: "floating address is taken" },
        { path: ["gateways", 0, "lanInterface"], message: 'gateway "a" needs its LAN interface' },
        { path: ["ha", "links"], message: 'ISP "x" has on-link pool "p": its link needs a VRRP instance' },
      ],
      [{ ispId: "a" }, { ispId: "b" }],
      true,
    );
    expect(grouped.byField).toEqual({
      "ha.lanVirtualAddress": ["LAN virtual address is required in active/standby mode"],
      [linkFieldKey("b", "floatingAddress")]: ["Floating address is taken"],
    });
    expect(grouped.other).toEqual(['ISP "x" has on-link pool "p": its link needs a VRRP instance']);
  });
});

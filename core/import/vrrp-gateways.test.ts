import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Policy, zPolicy } from "../policy/model";
import { emptyPolicy, importPolicy, type ImportResult } from "./index";

/**
 * keepalived vrrp_instance values that belong to one gateway (priority, unicast_src_ip, the LAN
 * interface) go into that gateway's settings when the file is imported for it; each gateway's
 * file sets its own entry.
 */

const dir = join(__dirname, "__samples__", "vrrp-pair");
const a = readFileSync(join(dir, "lb-a.conf"), "utf8");
const b = readFileSync(join(dir, "lb-b.conf"), "utf8");

function telia(): Policy {
  return zPolicy.parse({
    ...emptyPolicy(),
    isps: [{ id: "isp-telia", index: 1, name: "telia", interface: "eth1", nextHop: "198.51.100.1" }],
    pools: [{ id: "pool-t", name: "telia-main", ispId: "isp-telia", addresses: ["198.51.100.10-198.51.100.13"] }],
  });
}
const at = (r: ImportResult, n: number, file: string) => r.lines.find((l) => l.line === n && l.file === file);

describe("keepalived VRRP values per gateway", () => {
  const first = importPolicy(a, telia(), { fileName: "lb-a.conf", gatewayId: "gw-a" });
  const second = importPolicy(b, first.policy, { fileName: "lb-b.conf", gatewayId: "gw-b" });

  it("writes one gateway's priority, LAN interface and own addresses into its settings", () => {
    expect(first.problems).toEqual([]);
    expect(first.changes.gateway).toEqual({
      gatewayId: "gw-a",
      lanInterface: "lan0",
      lanAddress: "100.64.0.2/24",
      priority: 150,
      syncAddress: null,
      lanVirtualAddress: null,
      vrid: null,
      links: [
        { ispId: "isp-telia", interface: null, localAddress: "198.51.100.2/24", nextHop: null, floatingAddress: null },
      ],
    });
    expect(at(first, 6, "lb-a.conf")).toMatchObject({ status: "merged", message: "this gateway's VRRP priority 150" });
    expect(at(first, 8, "lb-a.conf")?.message).toBe("this gateway's own LAN address 100.64.0.2/24");
    expect(at(first, 4, "lb-a.conf")?.message).toBe("this gateway's LAN interface lan0");
    expect(at(first, 23, "lb-a.conf")?.message).toBe(
      `this gateway's own address on ISP "telia"'s link: 198.51.100.2/24`,
    );
    expect(at(first, 3, "lb-a.conf")?.status).toBe("ignored");
  });

  it("gives each gateway its own entry when both files are imported, each for its gateway", () => {
    expect(second.problems).toEqual([]);
    expect(at(second, 6, "lb-b.conf")?.changed).toContain("non-breaking or special spaces replaced by spaces");
    // one priority per gateway: the ISP instance's 90 differs from the LAN instance's 100
    expect(at(second, 17, "lb-b.conf")).toMatchObject({
      status: "not-imported",
      message: "not imported: a gateway has one VRRP priority, 100 from line 6",
    });
    const gateways = second.policy.settings.gateways.map((g) => [
      g.gatewayId,
      g.priority,
      g.lanInterface,
      g.lanAddress,
    ]);
    expect(gateways).toEqual([
      ["gw-a", 150, "lan0", "100.64.0.2/24"],
      ["gw-b", 100, "lan1", "100.64.0.3/24"],
    ]);
    expect(second.policy.settings.ha).toMatchObject({
      mode: "active_standby",
      lanVrid: 51,
      lanVirtualAddress: "100.64.0.1/24",
    });
  });

  it("without a gateway, names the per-gateway values as not imported and changes no gateway", () => {
    const r = importPolicy(a, telia(), { fileName: "lb-a.conf" });
    expect(r.changes.gateway).toBeNull();
    expect(at(r, 6, "lb-a.conf")?.message).toMatch(
      /priority belongs in that gateway's settings .*150 here\), or import this file for its gateway/,
    );
    expect(r.policy.settings.gateways).toEqual([]);
  });

  it("refuses a priority Gatehouse keeps for itself, naming it", () => {
    const r = importPolicy(a.replace("priority 150", "priority 250").replace("priority 150", "priority 250"), telia(), {
      fileName: "lb-a.conf",
      gatewayId: "gw-a",
    });
    expect(at(r, 6, "lb-a.conf")?.message).toBe(
      "not imported because priority 250 must be 249 or less (250 is an active/active gateway's own group)",
    );
    expect(r.changes.gateway?.priority).toBe(100);
  });
});

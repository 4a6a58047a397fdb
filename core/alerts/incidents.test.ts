import { describe, expect, it } from "vitest";
import {
  type AlertFacts,
  detectIncidents,
  type GatewayFacts,
  INCIDENT_DETECTORS,
  incidentChanges,
  type IspFacts,
} from "./incidents";

/** The facts, and the two gateways and ISPs by position, for tests to change. */
const facts = () => {
  const f = base();
  const [a, b] = f.gateways as [GatewayFacts, GatewayFacts];
  const [telia] = f.isps as [IspFacts, IspFacts];
  return { f, a, b, telia };
};

const base = (): AlertFacts => ({
  gateways: [
    { id: "g1", name: "gw-a", online: true, lastApplyOk: true, lastApplyError: "", isps: {} },
    { id: "g2", name: "gw-b", online: true, lastApplyOk: true, lastApplyError: "", isps: {} },
  ],
  isps: [
    { id: "i1", name: "telia", failedOverTo: null },
    { id: "i2", name: "bahnhof", failedOverTo: null },
  ],
  haIncidents: [],
});

describe("alert incidents", () => {
  it("a healthy cluster has none", () => {
    expect(detectIncidents(base())).toEqual([]);
  });

  it("a pool address filling its ports: the warning and the alert are incidents of their own", () => {
    const { f } = facts();
    const usage = (level: "warning" | "alert") => ({
      key: "g1 p1 198.51.100.10",
      level,
      gatewayName: "gw-a",
      poolName: "telia-main",
      address: "198.51.100.10",
      text: `Port usage ${level}: ...`,
    });
    f.poolUsage = [usage("warning")];
    const warning = detectIncidents(f);
    expect(warning).toMatchObject([
      {
        key: "pool_usage:g1 p1 198.51.100.10:warning",
        kind: "pool_usage",
        severity: "warning",
        subject: 'Pool "telia-main" address 198.51.100.10 on "gw-a" is filling its ports',
        detail: "Port usage warning: ...",
      },
    ]);
    f.poolUsage = [usage("alert")];
    const alert = detectIncidents(f);
    expect(alert).toMatchObject([{ severity: "critical", subject: expect.stringContaining("nearly out of ports") }]);
    // escalation resolves the warning and opens the alert
    expect(incidentChanges(warning, alert)).toMatchObject({
      opened: [{ key: "pool_usage:g1 p1 198.51.100.10:alert" }],
      resolved: [{ key: "pool_usage:g1 p1 198.51.100.10:warning" }],
    });
  });

  it("an ISP is down when an online gateway measures it down, with the reason; offline gateways do not count", () => {
    const { f, a } = facts();
    a.isps.i1 = { state: "down", reason: "5 probes lost", failoverTo: null };
    expect(detectIncidents(f)).toMatchObject([
      { key: "isp_down:i1", kind: "isp_down", severity: "critical", subject: 'ISP "telia" is down' },
    ]);
    expect(detectIncidents(f)[0]?.detail).toBe('Gateway "gw-a" measures ISP "telia" down: 5 probes lost');
    a.online = false;
    expect(detectIncidents(f).map((i) => i.key)).toEqual(["gateway_offline:g1"]);
  });

  it("failed over by an operator or by an agent is one incident per ISP, naming the backup", () => {
    const { f, a, b } = facts();
    a.isps.i1 = { state: "down", reason: "", failoverTo: "i2" };
    b.isps.i1 = { state: "down", reason: "", failoverTo: "i2" };
    const failed = detectIncidents(f).filter((i) => i.kind === "isp_failed_over");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ key: "isp_failed_over:i1", subject: 'ISP "telia" is failed over to "bahnhof"' });
    expect(failed[0]?.detail).toContain('gateways "gw-a", "gw-b" failed it over');
    const { f: byOperator, telia: byOperatorIsp } = facts();
    byOperatorIsp.failedOverTo = "i2";
    expect(detectIncidents(byOperator)[0]?.detail).toContain("an operator failed it over");
  });

  it("a never-seen gateway is not offline; a failed apply carries the agent's error", () => {
    const { f, a, b } = facts();
    a.online = null;
    b.lastApplyOk = false;
    b.lastApplyError = "nft: syntax error";
    expect(detectIncidents(f)).toMatchObject([
      { key: "apply_failed:g2", detail: expect.stringContaining("nft: syntax error") },
    ]);
  });

  it("HA incidents keep their keys and name the gateways", () => {
    const { f } = facts();
    f.haIncidents = [{ key: "no_healthy_backup:vg1", kind: "no_healthy_backup", group: "vg1", gatewayIds: ["g1"] }];
    expect(detectIncidents(f)).toMatchObject([
      { key: "no_healthy_backup:vg1", kind: "no_healthy_backup", detail: expect.stringContaining('"gw-a"') },
    ]);
  });

  it("every registered kind's incidents carry keys that start with the kind", () => {
    const { f, a, b } = facts();
    a.isps.i1 = { state: "down", reason: "", failoverTo: "i2" };
    b.online = false;
    a.lastApplyOk = false;
    f.haIncidents = [
      { key: "split_brain:vg1", kind: "split_brain", group: "vg1", gatewayIds: ["g1", "g2"] },
      { key: "no_healthy_backup:vg1", kind: "no_healthy_backup", group: "vg1", gatewayIds: [] },
    ];
    f.poolUsage = [
      {
        key: "g1 p1 198.51.100.10",
        level: "alert",
        gatewayName: "gw-a",
        poolName: "p",
        address: "198.51.100.10",
        text: "",
      },
    ];
    for (const [kind, detect] of Object.entries(INCIDENT_DETECTORS)) {
      const found = detect(f);
      expect(found.length, kind).toBeGreaterThan(0);
      for (const i of found) {
        expect(i.kind).toBe(kind);
        expect(i.key.startsWith(`${kind}:`)).toBe(true);
      }
    }
  });

  it("changes: new keys open, vanished keys resolve, lasting keys do nothing", () => {
    const { f, b } = facts();
    b.online = false;
    const now = detectIncidents(f);
    expect(incidentChanges([], now).opened.map((i) => i.key)).toEqual(["gateway_offline:g2"]);
    expect(incidentChanges([{ key: "gateway_offline:g2", id: "x" }], now)).toEqual({ opened: [], resolved: [] });
    expect(incidentChanges([{ key: "apply_failed:g1", id: "y" }], now).resolved).toEqual([
      { key: "apply_failed:g1", id: "y" },
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { brief, describeEvent, targetName } from "./describe";

const ev = (over: Partial<Parameters<typeof describeEvent>[0]>) => ({
  action: "x.y",
  actorType: "user",
  targetType: "",
  targetId: "",
  before: null,
  after: null,
  ...over,
});

describe("describeEvent", () => {
  it("names edits by the thing's name or rule number, with the first changed fields", () => {
    expect(describeEvent(ev({ action: "pool.create", targetType: "pool", after: { name: "a-main" } }))).toBe(
      'Created pool "a-main"',
    );
    const rule = { seq: 3, comment: "office", action: { type: "snat", poolId: "p", algorithm: "sh" }, enabled: true };
    expect(
      describeEvent(
        ev({
          action: "rule.update",
          targetType: "rule",
          before: rule,
          after: { ...rule, action: { ...rule.action, algorithm: "sdh" }, enabled: false },
        }),
      ),
    ).toMatch(/^Changed rule "office": .*sh → sdh; .*true → false$/);
    const rs = { address: "100.64.10.2", port: 8080, weight: 1, mode: "nat", state: "enabled" };
    expect(
      describeEvent(
        ev({
          action: "virtual_service.update",
          targetType: "virtual_service",
          before: { name: "web", realServers: [rs], scheduler: "rr" },
          after: { name: "web", realServers: [{ ...rs, state: "draining" }], scheduler: "sh" },
        }),
      ),
    ).toMatch(/^Changed virtual service "web": real servers .*; scheduler rr → sh$/);
    expect(describeEvent(ev({ action: "zone.delete", targetType: "zone", before: { name: "lab" } }))).toBe(
      'Deleted zone "lab"',
    );
  });

  it("says what publishes, reverts and agents did", () => {
    expect(
      describeEvent(
        ev({
          action: "cluster.publish",
          targetType: "revision",
          targetId: "2",
          after: { revision: 2, message: "hash by destination", changes: { total: 1 } },
        }),
      ),
    ).toBe("Published revision 2: “hash by destination” (1 change)");
    expect(
      describeEvent(
        ev({
          action: "cluster.revert",
          targetType: "revision",
          after: { revision: 3, revertedFrom: 1, message: "undo" },
        }),
      ),
    ).toBe("Reverted to revision 1, published as revision 3: “undo”");
    expect(
      describeEvent(
        ev({ action: "gateway.apply", actorType: "agent", after: { ok: false, revision: 4, error: "nft: bad" } }),
      ),
    ).toBe("Failed to apply revision 4: nft: bad");
    expect(
      describeEvent(
        ev({
          action: "isp.failover",
          actorType: "agent",
          targetType: "isp",
          after: { name: "isp-a", backupName: "isp-b" },
        }),
      ),
    ).toBe('Failed over ISP "isp-a" automatically to isp-b');
    expect(describeEvent(ev({ action: "auth.login_failed", after: { reason: "wrong password" } }))).toBe(
      "Sign-in refused (wrong password)",
    );
  });

  it("labels SSH enrollment events under the old action names as under the new ones", () => {
    for (const [start, outcome] of [
      ["gateway.ssh_enroll_start", "gateway.ssh_enroll"],
      ["gateway.ssh_enrol_start", "gateway.ssh_enrol"],
    ] as const) {
      expect(describeEvent(ev({ action: start, after: { name: "edge-1", host: "100.64.0.5" } }))).toBe(
        "Started enrolling edge-1 over SSH at 100.64.0.5",
      );
      expect(describeEvent(ev({ action: outcome, after: { name: "edge-1", outcome: "succeeded" } }))).toBe(
        "Enrolled edge-1 over SSH",
      );
      expect(
        describeEvent(ev({ action: outcome, after: { name: "edge-1", outcome: "failed", failedStep: "install" } })),
      ).toBe("Failed to enroll edge-1 over SSH (step install)");
    }
  });

  it("says which rule order a cluster switched to, and names a rule without a comment as a rule", () => {
    expect(
      describeEvent(
        ev({ action: "cluster.rule_order", targetType: "cluster", after: { ruleOrder: "list", rulesMoved: 2 } }),
      ),
    ).toBe("Rules now apply in the order listed (2 rules changed place)");
    expect(
      describeEvent(ev({ action: "cluster.rule_order", targetType: "cluster", after: { ruleOrder: "specificity" } })),
    ).toBe("Rules now apply most specific first");
    expect(targetName(ev({ targetType: "rule", after: { seq: 4, comment: "" } }))).toBe("a rule");
  });

  it("still reads events of unknown shape", () => {
    expect(describeEvent(ev({ action: "thing.frobnicate", targetType: "widget", targetId: "w1" }))).toBe(
      "thing.frobnicate on widget w1",
    );
    expect(
      describeEvent(ev({ action: "rule.update", targetType: "rule", targetId: "r9", before: "junk", after: 7 })),
    ).toBe("Changed rule r9: value junk → 7");
    expect(targetName(ev({ targetType: "gateway", targetId: "g1" }))).toBe("gateway g1");
    expect(brief("x".repeat(100), 10)).toBe("xxxxxxxxx…");
  });
});

describe("targetName", () => {
  it("uses the name the server looked up when the event itself carries none", () => {
    expect(targetName(ev({ targetType: "gateway", targetId: "g1", targetName: "edge-1" }))).toBe('gateway "edge-1"');
    expect(
      describeEvent(ev({ action: "gateway.enroll", targetType: "gateway", targetId: "g1", targetName: "edge-1" })),
    ).toBe('Enrolled gateway "edge-1"');
  });
});

describe("describeEvent for high availability", () => {
  const gw = { targetType: "gateway", targetId: "g1", targetName: "gw-a" };

  it("says which VRRP group changed state, from what to what, when, and how long the commit took", () => {
    expect(
      describeEvent(
        ev({
          ...gw,
          action: "gateway.vrrp_transition",
          actorType: "agent",
          before: { state: "backup" },
          after: {
            group: "cluster",
            from: "backup",
            to: "master",
            at: "2026-01-01T10:00:00Z",
            commitMs: 12,
            error: "",
          },
        }),
      ),
    ).toBe(
      'Gateway "gw-a": VRRP group "cluster" went from backup to master at 2026-01-01T10:00:00Z, synced connections committed in 12 ms',
    );
    expect(
      describeEvent(
        ev({
          ...gw,
          action: "gateway.vrrp_transition",
          after: {
            group: "cluster",
            from: "master",
            to: "fault",
            at: "2026-01-01T10:00:00Z",
            commitMs: null,
            error: "x",
          },
        }),
      ),
    ).toBe('Gateway "gw-a": VRRP group "cluster" went from master to fault at 2026-01-01T10:00:00Z; failed: x');
  });

  it("names the gateways and the group of an incident and of its end", () => {
    const incident = { kind: "split_brain", group: "cluster", gatewayIds: ["g1", "g2"], gateways: ["gw-a", "gw-b"] };
    expect(
      describeEvent(
        ev({
          action: "cluster.ha_incident",
          targetType: "cluster",
          actorType: "system",
          after: { ...incident, state: "open" },
        }),
      ),
    ).toMatch(/^Incident: Split brain in VRRP group "cluster": "gw-a" and "gw-b" are all master\./);
    expect(
      describeEvent(
        ev({
          action: "cluster.ha_incident_resolved",
          targetType: "cluster",
          before: { ...incident, state: "open" },
          after: { ...incident, state: "resolved" },
        }),
      ),
    ).toBe('Resolved: split brain in VRRP group "cluster" (gw-a, gw-b were all master)');
    expect(
      describeEvent(
        ev({
          action: "cluster.ha_incident",
          after: { kind: "no_healthy_backup", group: "gw-b", gatewayIds: ["g1"], gateways: ["gw-a"] },
        }),
      ),
    ).toMatch(/^Incident: No healthy backup for VRRP group "gw-b": only "gw-a" can hold it\./);
  });

  it("words a pool usage incident and its end as recorded", () => {
    const text = 'Port usage alert: pool "pa" address 198.51.100.10 on gateway "gw-a" has 97% of its ports in use';
    expect(describeEvent(ev({ action: "pool.usage_incident", targetType: "pool", after: { text } }))).toBe(text);
    expect(describeEvent(ev({ action: "pool.usage_incident_resolved", targetType: "pool", after: {} }))).toBe(
      "Port usage incident resolved",
    );
  });

  it("gives a drain's effect, a return to service, and a gateway's settings change in the form's words", () => {
    expect(
      describeEvent(
        ev({
          ...gw,
          action: "gateway.drain",
          before: { drained: false },
          after: { drained: true, effect: ['Group "cluster" moves from "gw-a" to "gw-b".'] },
        }),
      ),
    ).toBe('Drained gateway "gw-a": Group "cluster" moves from "gw-a" to "gw-b".');
    expect(
      describeEvent(ev({ ...gw, action: "gateway.return_to_service", after: { drained: false, effect: [] } })),
    ).toBe('Returned gateway "gw-a" to service');
    const before = { gatewayId: "g1", lanInterface: null, lanAddress: null, priority: 100, links: [] };
    expect(
      describeEvent(
        ev({
          ...gw,
          action: "gateway.settings_update",
          before,
          after: { ...before, lanInterface: "eth0", priority: 150 },
        }),
      ),
    ).toBe(
      'Changed the links and high availability of gateway "gw-a": LAN interface (not set) → eth0; VRRP priority 100 → 150',
    );
  });
  it("names a change of the cluster's HA settings by the settings' labels", () => {
    const settings = { unmatched: "drop", ha: { mode: "none", lanVirtualAddress: null, lanVrid: 51 } };
    expect(
      describeEvent(
        ev({
          action: "cluster.update",
          targetType: "cluster",
          before: { name: "edge", settings },
          after: {
            name: "edge",
            settings: {
              ...settings,
              ha: { ...settings.ha, mode: "active_standby", lanVirtualAddress: "100.64.0.1/24" },
            },
          },
        }),
      ),
    ).toBe(
      'Changed cluster "edge": high-availability mode none → active_standby; LAN virtual address null → 100.64.0.1/24',
    );
  });
});

describe("describeEvent for alerts", () => {
  const ch = { targetType: "alert_channel", targetId: "c1" };

  it("says which incident opened and resolved, and what each channel was sent", () => {
    const subject = 'ISP "telia" is down';
    expect(describeEvent(ev({ action: "alert.incident_open", actorType: "system", after: { subject } }))).toBe(
      'Alert opened: ISP "telia" is down',
    );
    expect(describeEvent(ev({ action: "alert.incident_resolved", actorType: "system", after: { subject } }))).toBe(
      'Alert resolved: ISP "telia" is down',
    );
    expect(
      describeEvent(
        ev({ ...ch, action: "alert.sent", actorType: "system", after: { subject, channel: "noc", phase: "open" } }),
      ),
    ).toBe('Sent the alert "ISP "telia" is down" through channel "noc"');
    expect(
      describeEvent(
        ev({
          ...ch,
          action: "alert.failed",
          actorType: "system",
          after: { subject, channel: "noc", phase: "resolved", attempts: 5, error: "HTTP 404 from hooks.example.com" },
        }),
      ),
    ).toBe(
      'Gave up sending the resolution "ISP "telia" is down" through channel "noc" after 5 attempts: HTTP 404 from hooks.example.com',
    );
    expect(
      describeEvent(
        ev({
          ...ch,
          action: "alert.test_failed",
          actorType: "user",
          after: { channel: "noc", error: "no answer within 10 s" },
        }),
      ),
    ).toBe('Test message through alert channel "noc" failed: no answer within 10 s');
  });
});

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
    ).toMatch(/^Changed rule #3 \(office\): .*sh → sdh; .*true → false$/);
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

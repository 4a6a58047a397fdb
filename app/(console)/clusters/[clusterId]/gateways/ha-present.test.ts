import { describe, expect, it } from "vitest";
import { haRole } from "./ha-present";

describe("haRole", () => {
  it("says nothing for a gateway that sent no VRRP report", () => {
    expect(haRole(null, new Date())).toBeNull();
  });

  it("gives each group's state with its priority and how long, and both services", () => {
    const now = new Date("2026-01-01T10:05:00Z");
    const view = haRole(
      {
        checkedAt: now.toISOString(),
        groups: [
          { name: "cluster", state: "master", since: "2026-01-01T10:00:00Z", effectivePriority: 150 },
          { name: "gw-b", state: "fault", since: null, effectivePriority: null },
        ],
        keepalived: "running",
        conntrackd: "failed",
        transitions: [],
        error: "conntrackd: cannot bind",
      },
      now,
    );
    expect(view?.groups).toEqual([
      { name: "cluster", state: "master", tone: "ok", detail: "priority 150, for 5 min" },
      { name: "gw-b", state: "fault", tone: "danger", detail: "" },
    ]);
    expect(view?.services).toEqual([
      { name: "keepalived", state: "running", tone: "ok" },
      { name: "conntrackd", state: "failed", tone: "danger" },
    ]);
    expect(view?.error).toBe("conntrackd: cannot bind");
  });
});

import { describe, expect, it } from "vitest";
import type { HaStatus, VrrpState, VrrpTransition } from "../protocol/agent-api";
import { describeHaIncident, detectHaIncidents, newTransitions } from "./ha-incidents";

const AT = "2026-12-05T03:00:00.000Z";
function status(states: Record<string, VrrpState>): HaStatus {
  return {
    checkedAt: AT,
    groups: Object.entries(states).map(([name, state]) => ({ name, state, since: null, effectivePriority: null })),
    keepalived: "running",
    conntrackd: "running",
    transitions: [],
    error: "",
  };
}

describe("detectHaIncidents", () => {
  it("finds nothing in a healthy pair", () => {
    expect(
      detectHaIncidents([
        { id: "a", name: "gw-a", ha: status({ cluster: "master" }) },
        { id: "b", name: "gw-b", ha: status({ cluster: "backup" }) },
      ]),
    ).toEqual([]);
  });

  it("finds split brain when two gateways are master of one group", () => {
    const found = detectHaIncidents([
      { id: "a", name: "gw-a", ha: status({ cluster: "master" }) },
      { id: "b", name: "gw-b", ha: status({ cluster: "master" }) },
    ]);
    expect(found).toEqual([
      { key: "split_brain:cluster", kind: "split_brain", group: "cluster", gatewayIds: ["a", "b"] },
    ]);
    expect(describeHaIncident(found[0] as never, (id) => `gw-${id}`)).toMatch(/"gw-a" and "gw-b" are all master/);
  });

  it("finds no healthy backup when the peer is in fault, or offline", () => {
    const fault = detectHaIncidents([
      { id: "a", name: "gw-a", ha: status({ g61: "master", g62: "backup" }) },
      { id: "b", name: "gw-b", ha: status({ g61: "fault", g62: "master" }) },
    ]);
    expect(fault.map((i) => [i.key, i.gatewayIds])).toEqual([["no_healthy_backup:g61", ["a"]]]);
    const offline = detectHaIncidents([
      { id: "a", name: "gw-a", ha: status({ cluster: "master" }) },
      { id: "b", name: "gw-b", ha: null },
    ]);
    expect(offline.map((i) => i.key)).toEqual(["no_healthy_backup:cluster"]);
  });
});

describe("newTransitions", () => {
  const t = (at: string, to: VrrpState): VrrpTransition => ({
    group: "cluster",
    from: "backup",
    to,
    at,
    commitMs: 12,
    error: "",
  });
  it("keeps only what the previous report did not have", () => {
    const first = [t("2026-12-05T03:00:00.000Z", "master")];
    const second = [...first, t("2026-12-05T03:00:05.000Z", "backup")];
    expect(newTransitions([], first)).toEqual(first);
    expect(newTransitions(first, second)).toEqual([second[1]]);
    expect(newTransitions(second, second)).toEqual([]);
  });
});

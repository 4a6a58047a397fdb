import { describe, expect, it } from "vitest";
import { eventFieldDiff } from "./field-diff";

describe("eventFieldDiff", () => {
  it("walks nested objects to dotted paths and labels policy fields in operator words", () => {
    const before = { name: "isp-a", monitor: { intervalMs: 500, downAfter: 3 }, probeTargets: ["198.51.100.1"] };
    const after = {
      name: "isp-a",
      monitor: { intervalMs: 200, downAfter: 3 },
      probeTargets: ["198.51.100.1", "203.0.113.9"],
    };
    const diff = eventFieldDiff("isp", before, after);
    expect(diff.map((d) => [d.path, d.change])).toEqual([
      ["name", "same"],
      ["monitor.intervalMs", "changed"],
      ["monitor.downAfter", "same"],
      ["probeTargets", "changed"],
    ]);
    const interval = diff.find((d) => d.path === "monitor.intervalMs");
    expect(interval).toMatchObject({ before: 500, after: 200 });
    expect(interval?.label).not.toBe("monitor intervalMs");
    // lists are compared whole
    expect(diff.find((d) => d.path === "probeTargets")?.after).toEqual(["198.51.100.1", "203.0.113.9"]);
  });

  it("reports creations as added fields and deletions as removed ones", () => {
    expect(eventFieldDiff("zone", null, { name: "office", networks: ["100.64.0.0/16"] })).toEqual([
      expect.objectContaining({ path: "name", change: "added", before: undefined, after: "office" }),
      expect.objectContaining({ path: "networks", change: "added" }),
    ]);
    expect(eventFieldDiff("gateway", { name: "gw-1" }, null)).toEqual([
      { path: "name", label: "name", change: "removed", before: "gw-1", after: undefined },
    ]);
  });

  it("handles fields that appear or disappear, a union that changes its tag, and non-object values", () => {
    const diff = eventFieldDiff(
      "rule",
      { action: { type: "snat", poolId: "p1", algorithm: "sh" } },
      { action: { type: "drop" } },
    );
    expect(diff.map((d) => [d.path, d.change])).toEqual([
      ["action.type", "changed"],
      ["action.poolId", "removed"],
      ["action.algorithm", "removed"],
    ]);
    expect(eventFieldDiff("audit", "raw text", "other")).toEqual([
      { path: "", label: "value", change: "changed", before: "raw text", after: "other" },
    ]);
    expect(eventFieldDiff("user", null, null)).toEqual([]);
    expect(eventFieldDiff("revision", { revision: 1 }, { revision: 2, message: "m" }).map((d) => d.change)).toEqual([
      "changed",
      "added",
    ]);
  });
});

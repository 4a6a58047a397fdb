import { describe, expect, it } from "vitest";
import { clusterGeneration, notifyClusterChanged, waitForClusterChange, waiterCount } from "./notifier";

describe("cluster change notifier", () => {
  it("wakes every waiter of the cluster at once, and no other cluster's", async () => {
    const gen = clusterGeneration("c1");
    const a = waitForClusterChange("c1", gen, 5000);
    const b = waitForClusterChange("c1", gen, 5000);
    const other = waitForClusterChange("c2", clusterGeneration("c2"), 100);
    expect(waiterCount("c1")).toBe(2);
    const started = Date.now();
    notifyClusterChanged("c1");
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(Date.now() - started).toBeLessThan(500);
    expect(await other).toBe(false);
    expect(waiterCount("c1")).toBe(0);
  });

  it("does not miss a change between reading the generation and waiting", async () => {
    const gen = clusterGeneration("c3");
    notifyClusterChanged("c3");
    expect(await waitForClusterChange("c3", gen, 5000)).toBe(true);
  });

  it("times out and stops on abort, leaving no waiter behind", async () => {
    expect(await waitForClusterChange("c4", clusterGeneration("c4"), 20)).toBe(false);
    const ac = new AbortController();
    const w = waitForClusterChange("c4", clusterGeneration("c4"), 5000, ac.signal);
    ac.abort();
    expect(await w).toBe(false);
    expect(waiterCount("c4")).toBe(0);
  });
});

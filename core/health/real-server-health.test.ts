import { describe, expect, it } from "vitest";
import { INITIAL_HEALTH, nextHealth, type HealthCounter } from "./real-server-health";

function run(results: boolean[], limits = { rise: 2, fall: 3 }): string {
  let h: HealthCounter = INITIAL_HEALTH;
  return results
    .map((ok) => {
      const r = nextHealth(h, ok, limits);
      h = r.next;
      return r.changed ? h.health.toUpperCase() : h.health[0];
    })
    .join(" ");
}

describe("real server health", () => {
  it("goes down after fall failures in a row and up after rise successes in a row", () => {
    expect(run([false, false, false, true, true])).toBe("u u DOWN d UP");
  });

  it("a success between failures restarts the count, and so does a failure while rising", () => {
    expect(run([false, false, true, false, false, false, true, false, true, true])).toBe("u u u u u DOWN d d d UP");
  });

  it("rise and fall of 1 change at once", () => {
    expect(run([false, true, false], { rise: 1, fall: 1 })).toBe("DOWN UP DOWN");
  });
});

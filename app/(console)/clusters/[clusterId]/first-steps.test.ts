import { describe, expect, it } from "vitest";
import { firstSteps, nextStep } from "./first-steps";

const empty = { isps: 0, pools: 0, rules: 0, gateways: 0, publishedRevision: 0 };

describe("first steps of a cluster", () => {
  it("start with the ISPs and go in the order the steps depend on each other", () => {
    expect(firstSteps(empty).map((s) => s.key)).toEqual(["isps", "pools", "rules", "publish", "gateways"]);
    expect(nextStep(empty)?.key).toBe("isps");
    expect(nextStep({ ...empty, isps: 2 })?.key).toBe("pools");
    expect(nextStep({ ...empty, isps: 2, pools: 1, rules: 3 })?.page).toBe("changes");
    expect(nextStep({ ...empty, isps: 2, pools: 1, rules: 3, publishedRevision: 1 })?.key).toBe("gateways");
  });

  it("name the earliest step missing, even when later ones are done", () => {
    expect(nextStep({ ...empty, isps: 1, rules: 1, gateways: 1, publishedRevision: 1 })?.key).toBe("pools");
  });

  it("end once everything is there", () => {
    expect(nextStep({ isps: 1, pools: 1, rules: 1, gateways: 1, publishedRevision: 1 })).toBeNull();
  });
});

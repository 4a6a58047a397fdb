import { describe, expect, it } from "vitest";
import { currentActionName } from "./action-names";

describe("currentActionName", () => {
  it("reads the old spelling of the SSH enrollment actions as the new one", () => {
    expect(currentActionName("gateway.ssh_enrol")).toBe("gateway.ssh_enroll");
    expect(currentActionName("gateway.ssh_enrol_start")).toBe("gateway.ssh_enroll_start");
  });

  it("leaves current names alone", () => {
    expect(currentActionName("gateway.ssh_enroll")).toBe("gateway.ssh_enroll");
    expect(currentActionName("rule.create")).toBe("rule.create");
  });
});

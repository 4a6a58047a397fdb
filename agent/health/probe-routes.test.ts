import { describe, expect, it } from "vitest";
import { FakeRunner } from "../../testkit/fakes/runner";
import { gatewaySpec, isp } from "../../testkit/spec-fixtures";
import { probeRules, reconcileProbeRules } from "./probe-routes";

const spec = (targetsA: string[], targetsB: string[]) =>
  gatewaySpec({
    isps: [
      { ...isp("a", 1, "ispa", "100.65.1.2"), probeTargets: targetsA },
      { ...isp("b", 2, "eth0.100", "100.65.2.2"), probeTargets: targetsB },
    ],
    pools: [],
    entries: [],
  });

describe("probe routing", () => {
  it("sends probes bound to an ISP's interface through its own table, only for targets beyond the next hop", () => {
    expect(probeRules(spec(["100.65.1.2"], ["203.0.113.1", "100.65.2.2"]))).toEqual([
      { priority: 7352, oif: "eth0.100", table: 7102 },
    ]);
  });

  it("adds what is missing, removes what is no longer wanted, and leaves other rules alone", async () => {
    const listed = [
      { priority: 0, src: "all", table: "local" },
      { priority: 7101, src: "all", fwmark: "0x101", fwmask: "0x1ff", table: "7101" },
      { priority: 7351, src: "all", oif: "ispa", table: "7101" },
      { priority: 7353, src: "all", oif: "ispc", table: "7103" },
      { priority: 32766, src: "all", table: "main" },
    ];
    const runner = new FakeRunner()
      .on(["ip", "-4", "-j", "rule", "show"], { stdout: JSON.stringify(listed) })
      .on(["ip", "-4", "rule"], {});
    const errors = await reconcileProbeRules(runner, spec(["203.0.113.1"], ["203.0.113.2"]));
    expect(errors).toEqual([]);
    expect(runner.commands().slice(1)).toEqual([
      "ip -4 rule add priority 7352 oif eth0.100 lookup 7102",
      "ip -4 rule del priority 7353 oif ispc lookup 7103",
    ]);
  });

  it("reports a failing command and carries on", async () => {
    const runner = new FakeRunner()
      .on(["ip", "-4", "-j", "rule", "show"], { stdout: "[]" })
      .on(["ip", "-4", "rule", "add"], { code: 2, stderr: "Error: Device does not exist." });
    const errors = await reconcileProbeRules(runner, spec(["203.0.113.1"], ["203.0.113.2"]));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/Device does not exist/);
  });
});

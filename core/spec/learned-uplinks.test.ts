import { describe, expect, it } from "vitest";
import { gatewaySpec, isp } from "../../testkit/spec-fixtures";
import { withLearnedUplinks } from "./learned-uplinks";

describe("withLearnedUplinks", () => {
  const dhcp = {
    ...isp("d", 1, "wan0", "100.66.0.1"),
    addressing: "dhcp" as const,
    probeTargets: ["100.66.0.1", "203.0.113.9"],
  };
  const fixed = isp("s", 2, "wan1", "100.65.2.2");
  const spec = gatewaySpec({ isps: [dhcp, fixed], pools: [], entries: [] });

  it("gives a dynamic ISP the learned next hop, and its probes that were the old one", () => {
    const out = withLearnedUplinks(
      spec,
      new Map([
        ["d", { ispId: "d", interface: "wan0", address: "100.66.0.20", nextHop: "100.66.0.254" }],
        ["s", { ispId: "s", interface: "wan1", address: "100.65.2.9", nextHop: "100.65.2.254" }],
      ]),
    );
    expect(out.isps[0]).toMatchObject({ nextHop: "100.66.0.254", probeTargets: ["100.66.0.254", "203.0.113.9"] });
    // a static ISP keeps what the policy says, whatever the interface shows
    expect(out.isps[1]).toEqual(fixed);
  });

  it("keeps the policy's next hop while nothing is learned, marked unknown, and leaves a static-only spec alone", () => {
    const none = new Map([["d", { ispId: "d", interface: "wan0", address: null, nextHop: null }]]);
    expect(withLearnedUplinks(spec, none).isps[0]).toEqual({ ...dhcp, nextHopUnknown: true });
    expect(withLearnedUplinks(spec, new Map()).isps[0]).toEqual({ ...dhcp, nextHopUnknown: true });
    const staticOnly = gatewaySpec({ isps: [fixed], pools: [], entries: [] });
    expect(withLearnedUplinks(staticOnly, new Map())).toBe(staticOnly);
  });
});

import { describe, expect, it } from "vitest";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import { FakeRunner } from "../../testkit/fakes/runner";
import { Datapath } from "./datapath";

describe("Datapath.restoreRouting", () => {
  it("adds back the route and the on-link address an uplink lost, and removes nothing", async () => {
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "198.51.100.1")],
      pools: [pool("pa", "a", ["198.51.100.10"], null, "on-link")],
      entries: [],
    });
    const fake = new FakeRunner()
      .on(["sysctl", "-n"], { stdout: "2\n" })
      .on(["ip", "-4", "-j", "rule", "show"], {
        stdout: JSON.stringify([{ priority: 101, src: "all", fwmark: "0x101", fwmask: "0x1ff", table: "7101" }]),
      })
      // the interface went down and came back: its table lost the default route
      .on(["ip", "-4", "-j", "route", "show", "table"], {
        code: 2,
        stdout: "[",
        stderr: "Error: ipv4: FIB table does not exist.",
      })
      .on(["ip", "-4", "-j", "addr", "show"], {
        stdout: JSON.stringify([
          { ifname: "ispa", addr_info: [{ family: "inet", local: "198.51.100.2", prefixlen: 24 }] },
        ]),
      })
      .on(["ip", "-4", "route", "replace"], {})
      .on(["ip", "-4", "addr", "add"], {});
    const r = await new Datapath({ runner: fake }).restoreRouting(spec);
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([
      "ip -4 route replace default via 198.51.100.1 dev ispa table 7101",
      "ip -4 addr add 198.51.100.10/32 dev ispa noprefixroute metric 7100",
    ]);
    expect(fake.commands().some((c) => c.includes(" del "))).toBe(false);
  });
});

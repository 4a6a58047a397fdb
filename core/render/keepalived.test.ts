import { describe, expect, it } from "vitest";
import type { SpecHa } from "../spec/schema";
import { renderKeepalivedConf } from "./keepalived";

const ha: SpecHa = {
  mode: "active_standby",
  advertIntervalMs: 100,
  preempt: false,
  trackLinkWeight: 50,
  drained: false,
  sync: null,
  groups: [
    {
      name: "gh_main",
      ownerGatewayId: null,
      priority: 150,
      instances: [
        {
          name: "gh_lan",
          kind: "lan",
          ispId: null,
          interface: "lan0",
          vrid: 10,
          ownAddress: "100.64.0.2",
          unicastPeers: ["100.64.0.3"],
          virtualAddresses: ["100.64.0.1/24"],
        },
        {
          name: "gh_isp1",
          kind: "isp",
          ispId: "isp1",
          interface: "wan0",
          vrid: 11,
          ownAddress: "198.51.100.2",
          unicastPeers: [],
          virtualAddresses: ["198.51.100.1/24", "198.51.100.10/32"],
        },
      ],
    },
  ],
};

describe("renderKeepalivedConf", () => {
  const conf = renderKeepalivedConf(ha, { dir: "/run/gh/a" });

  it("speaks VRRPv3 with hundredths of a second and the agent's fifo and weight file", () => {
    expect(conf).toContain("vrrp_version 3");
    expect(conf).toContain("advert_int 0.10");
    expect(conf).toContain("notify_fifo /run/gh/a/keepalived.fifo");
    expect(conf).toContain('file "/run/gh/a/links.weight"');
  });

  it("groups instances, tracks links on every member and floats addresses on their interfaces", () => {
    expect(conf).toMatch(
      /vrrp_sync_group gh_main \{\n {2}group \{\n {4}gh_lan\n {4}gh_isp1\n {2}\}\n {2}sync_group_tracking_weight/,
    );
    expect(conf.match(/gatehouse_links weight -50/g)).toHaveLength(2);
    expect(conf).toContain("198.51.100.10/32 dev wan0");
    expect(conf).toContain("100.64.0.1/24 dev lan0");
    expect(conf).toContain("nopreempt");
  });

  it("uses unicast only where peers are given, and priority 1 when drained", () => {
    expect(conf.match(/unicast_peer/g)).toHaveLength(1);
    expect(conf).toContain("priority 150");
    const drained = renderKeepalivedConf({ ...ha, drained: true, preempt: true }, { dir: "/d" });
    expect(drained).toContain("priority 1\n");
    expect(drained).not.toContain("nopreempt");
  });
});

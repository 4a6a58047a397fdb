import { describe, expect, it } from "vitest";
import type { SpecHa } from "../spec/schema";
import { conntrackdIgnoredAddresses, renderConntrackdConf } from "./conntrackd";

const sync = { interface: "sync0", ownAddress: "100.100.0.1", peerAddresses: ["100.100.0.2"], port: 3780 };
const ha: SpecHa = {
  mode: "active_standby",
  advertIntervalMs: 100,
  preempt: false,
  trackLinkWeight: 50,
  drained: false,
  sync,
  groups: [
    {
      name: "cluster",
      ownerGatewayId: null,
      priority: 150,
      instances: [
        {
          name: "lan",
          kind: "lan",
          ispId: null,
          interface: "lan0",
          vrid: 10,
          ownAddress: "100.64.0.2",
          unicastPeers: ["100.64.0.3"],
          virtualAddresses: ["100.64.0.1/24"],
        },
        {
          name: "isp1",
          kind: "isp",
          ispId: "isp1",
          interface: "wan0",
          vrid: 11,
          ownAddress: "198.51.100.2",
          unicastPeers: ["198.51.100.3"],
          virtualAddresses: ["198.51.100.4/24", "198.51.100.10/32"],
        },
      ],
    },
  ],
};

describe("renderConntrackdConf", () => {
  const conf = renderConntrackdConf(ha, { dir: "/run/gh/a" }) ?? "";

  it("is null without connection sync", () => {
    expect(renderConntrackdConf({ ...ha, sync: null }, { dir: "/x" })).toBeNull();
  });

  it("syncs with FTFW over UDP from the own sync address to the peer on the sync interface", () => {
    expect(conf).toMatch(/Sync \{\n {2}Mode FTFW \{/);
    expect(conf).toMatch(
      /UDP Default \{\n {4}IPv4_address 100\.100\.0\.1\n {4}IPv4_Destination_Address 100\.100\.0\.2\n {4}Port 3780\n {4}Interface sync0\n/,
    );
    expect(conf).not.toContain("Multicast");
  });

  it("keeps its socket, lock and log under the agent's directory", () => {
    expect(conf).toContain("Path /run/gh/a/conntrackd.ctl");
    expect(conf).toContain("LockFile /run/gh/a/conntrackd.lock");
    expect(conf).toContain("LogFile /run/gh/a/conntrackd.log");
  });

  it("ignores loopback, the gateways' own, peer and floating addresses but not pool addresses", () => {
    const ignored = conntrackdIgnoredAddresses(ha);
    expect(ignored).toEqual([
      "127.0.0.1",
      "100.100.0.1",
      "100.100.0.2",
      "100.64.0.2",
      "100.64.0.3",
      "100.64.0.1",
      "198.51.100.2",
      "198.51.100.3",
      "198.51.100.4",
    ]);
    for (const a of ignored) expect(conf).toContain(`      IPv4_address ${a}\n`);
    expect(conf).not.toContain("198.51.100.10");
    expect(conf).toMatch(/Protocol Accept \{\n {6}TCP\n {6}UDP\n {6}ICMP\n {4}\}/);
  });

  it("keeps the peer's connections in an external cache in active/standby, in the kernel in active/active", () => {
    expect(conf).not.toContain("DisableExternalCache");
    const aa = renderConntrackdConf({ ...ha, mode: "active_active" }, { dir: "/d" }) as string;
    expect(aa).toMatch(/Mode FTFW \{\n {4}ResendQueueSize 131072\n {4}DisableExternalCache on\n {2}\}/);
  });

  it("opens one channel per peer, the first one the default", () => {
    const two = renderConntrackdConf(
      { ...ha, sync: { ...sync, peerAddresses: ["100.100.0.2", "100.100.0.3"] } },
      { dir: "/d" },
    ) as string;
    expect(two.match(/UDP Default \{/g)).toHaveLength(1);
    expect(two.match(/ {2}UDP \{/g)).toHaveLength(1);
    expect(two).toContain("IPv4_Destination_Address 100.100.0.3");
  });
});

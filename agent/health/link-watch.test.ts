import { describe, expect, it } from "vitest";
import { parseLinkCarriers, parseMonitorLine } from "./link-watch";

describe("parseMonitorLine", () => {
  it("reads carrier loss and return from link events (ip 6.1 -o output)", () => {
    expect(
      parseMonitorLine(
        "2: up0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 0e:79:f7:af:27:97 brd ff:ff:ff:ff:ff:ff link-netns x",
      ),
    ).toEqual({ kind: "link", ifname: "up0", carrier: false, deleted: false });
    expect(
      parseMonitorLine(
        "2: eth1.100@eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default",
      ),
    ).toEqual({ kind: "link", ifname: "eth1.100", carrier: true, deleted: false });
  });

  it("counts an administratively down or deleted interface as without carrier", () => {
    expect(parseMonitorLine("7: ppp0: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN")).toMatchObject({
      carrier: false,
      deleted: false,
    });
    expect(parseMonitorLine("Deleted 7: ppp0: <POINTOPOINT,UP,LOWER_UP> mtu 1492 qdisc fq_codel")).toEqual({
      kind: "link",
      ifname: "ppp0",
      carrier: false,
      deleted: true,
    });
  });

  it("reads IPv4 address events with their metric, and ignores IPv6 and junk", () => {
    expect(
      parseMonitorLine(
        "Deleted 2: up0    inet 198.51.100.11/32 metric 7100 scope global noprefixroute up0\\       valid_lft forever preferred_lft forever",
      ),
    ).toEqual({ kind: "address", ifname: "up0", address: "198.51.100.11", prefix: 32, metric: 7100, deleted: true });
    expect(parseMonitorLine("3: eth1    inet 198.51.100.2/24 brd 198.51.100.255 scope global eth1")).toMatchObject({
      address: "198.51.100.2",
      prefix: 24,
      metric: null,
      deleted: false,
    });
    expect(parseMonitorLine("2: up0    inet6 fe80::684b:22ff:fe59:1bd9/64 scope link")).toBeNull();
    expect(parseMonitorLine("")).toBeNull();
    expect(parseMonitorLine("garbage: <<<")).toBeNull();
  });
});

describe("parseMonitorLine: ip rules", () => {
  it("reads added and deleted rules of either family by their priority (ip 6.1 -o output)", () => {
    expect(parseMonitorLine("1234:\tfrom 100.64.9.0/24 lookup 100")).toEqual({
      kind: "rule",
      priority: 1234,
      deleted: false,
    });
    expect(parseMonitorLine("Deleted 1234:\tfrom 100.64.9.0/24 lookup 100")).toEqual({
      kind: "rule",
      priority: 1234,
      deleted: true,
    });
    expect(parseMonitorLine("32766:\tfrom all fwmark 0x10/0xff lookup 7 proto static")).toMatchObject({ kind: "rule" });
    expect(parseMonitorLine("100:\tfrom 2001:db8::/32 lookup 9")).toMatchObject({ kind: "rule", priority: 100 });
  });

  it("never takes a link or address line for a rule", () => {
    expect(parseMonitorLine("3: eth1    inet 198.51.100.2/24 scope global eth1")).toMatchObject({ kind: "address" });
    expect(parseMonitorLine("3: eth1: <BROADCAST,UP,LOWER_UP> mtu 1500")).toMatchObject({ kind: "link" });
  });
});

describe("parseLinkCarriers", () => {
  it("reads the carrier of every interface from ip -j link show", () => {
    const json = JSON.stringify([
      { ifname: "lo", flags: ["LOOPBACK", "UP", "LOWER_UP"] },
      { ifname: "eth1", flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"] },
      { ifname: "eth2", flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"] },
    ]);
    expect([...parseLinkCarriers(json)]).toEqual([
      ["lo", true],
      ["eth1", false],
      ["eth2", true],
    ]);
    expect(parseLinkCarriers("not json").size).toBe(0);
  });
});

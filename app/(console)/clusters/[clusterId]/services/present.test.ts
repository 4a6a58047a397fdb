import { describe, expect, it } from "vitest";
import { zVirtualService } from "@/core/policy/virtual-service";
import type { RealServerTraffic } from "@/core/protocol/virtual-service-status";
import { formatBytes, formatCount, healthSummary, serviceAddress, serviceView } from "./present";

const service = zVirtualService.parse({
  id: "vs-1",
  name: "web",
  address: "203.0.113.80",
  port: 80,
  realServers: [{ address: "100.64.10.2", port: 8080 }, { address: "100.64.10.3" }],
});

const traffic = (connections: number): RealServerTraffic => ({
  connections,
  packetsIn: connections * 10,
  packetsOut: connections * 9,
  bytesIn: connections * 1000,
  bytesOut: connections * 9000,
  connectionsPerSecond: connections / 10,
  packetsInPerSecond: 0,
  packetsOutPerSecond: 0,
  active: connections,
  inactive: 0,
});

const gateway = (
  name: string,
  online: boolean,
  healths: ["up" | "down" | "unchecked", "up" | "down" | "unchecked"],
) => ({
  gatewayId: name,
  gatewayName: name,
  online,
  reportedAt: null,
  services: [
    {
      serviceId: "vs-1",
      realServers: [
        { address: "100.64.10.2", port: 8080, health: healths[0], since: null, lastError: "", traffic: traffic(10) },
        // a server without a port of its own is reported with the service's
        {
          address: "100.64.10.3",
          port: 80,
          health: healths[1],
          since: null,
          lastError: "refused",
          traffic: traffic(1),
        },
      ],
    },
  ],
});

describe("the Services page's view of the gateways' reports", () => {
  it("writes a service's address as address:port/protocol", () => {
    expect(serviceAddress(service)).toBe("203.0.113.80:80/tcp");
    expect(serviceAddress({ ...service, port: null, protocol: "udp" })).toBe("203.0.113.80:*/udp");
    expect(
      serviceAddress({
        ...service,
        address: null,
        port: null,
        protocol: "any",
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
      }),
    ).toBe("fwmark 0x10000000/0xf0000000");
  });

  it("finds a server down when any online gateway does, and sums traffic over the online gateways", () => {
    const v = serviceView(service, [gateway("a", true, ["up", "up"]), gateway("b", true, ["up", "down"])]);
    expect(v.realServers.map((r) => r.health)).toEqual(["up", "down"]);
    expect(v.realServers[1]?.byGateway.map((g) => [g.gatewayName, g.health])).toEqual([
      ["a", "up"],
      ["b", "down"],
    ]);
    expect(v.realServers[0]?.traffic?.connections).toBe(20);
    expect(v.traffic?.connections).toBe(22);
    expect(healthSummary(v.counts)).toBe("1 up, 1 down");
  });

  it("ignores offline gateways and says when nothing is reported", () => {
    const v = serviceView(service, [gateway("a", false, ["down", "down"])]);
    expect(v.realServers.map((r) => r.health)).toEqual(["unknown", "unknown"]);
    expect(v.traffic).toBeNull();
    expect(healthSummary(serviceView(service, []).counts)).toBe("no report");
  });

  it("formats counts and bytes", () => {
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1_234_567)).toBe("1.2 M");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
  });
});

import { type HaMode, type Policy, zPolicy } from "../core/policy/model";
import type { ClusterGateway } from "../core/policy/ha";

/**
 * A two-gateway cluster with one on-link pool (ISP "alpha") and one routed pool (ISP "beta"),
 * complete for the given high-availability mode. The second gateway names its interfaces
 * differently, as gateways of one cluster often do.
 */
export const HA_GATEWAYS: ClusterGateway[] = [
  { id: "gw-a", name: "gw-a", drained: false },
  { id: "gw-b", name: "gw-b", drained: false },
];

export function haPolicy(mode: HaMode = "active_standby"): Policy {
  return zPolicy.parse({
    settings: {
      unmatched: "drop",
      hashSeed: 7,
      ha: {
        mode,
        lanVirtualAddress: mode === "active_standby" ? "100.64.0.1/24" : null,
        lanVrid: 51,
        sync: { enabled: true, interface: "sync0" },
        links: [
          { ispId: "isp-alpha", vrid: 52, floatingAddress: "198.51.100.4/24" },
          { ispId: "isp-beta", vrid: 53, floatingAddress: "203.0.113.4/26" },
        ],
      },
      gateways: [
        {
          gatewayId: "gw-a",
          lanInterface: "eth0",
          lanAddress: "100.64.0.2/24",
          priority: 150,
          syncAddress: "100.100.0.1",
          lanVirtualAddress: mode === "active_active" ? "100.64.0.11/24" : null,
          vrid: mode === "active_active" ? 61 : null,
          links: [
            {
              ispId: "isp-alpha",
              localAddress: "198.51.100.2/24",
              floatingAddress: mode === "active_active" ? "198.51.100.5/24" : null,
            },
            {
              ispId: "isp-beta",
              localAddress: "203.0.113.2/26",
              floatingAddress: mode === "active_active" ? "203.0.113.5/26" : null,
            },
          ],
        },
        {
          gatewayId: "gw-b",
          lanInterface: "ens0",
          lanAddress: "100.64.0.3/24",
          priority: 100,
          syncAddress: "100.100.0.2",
          lanVirtualAddress: mode === "active_active" ? "100.64.0.12/24" : null,
          vrid: mode === "active_active" ? 62 : null,
          links: [
            {
              ispId: "isp-alpha",
              interface: "ens1",
              localAddress: "198.51.100.3/24",
              floatingAddress: mode === "active_active" ? "198.51.100.6/24" : null,
            },
            {
              ispId: "isp-beta",
              interface: "ens2",
              nextHop: "203.0.113.62",
              localAddress: "203.0.113.3/26",
              floatingAddress: mode === "active_active" ? "203.0.113.6/26" : null,
            },
          ],
        },
      ],
    },
    isps: [
      {
        id: "isp-alpha",
        index: 1,
        name: "alpha",
        interface: "eth1",
        nextHop: "198.51.100.1",
        localAddress: "198.51.100.2/24",
      },
      {
        id: "isp-beta",
        index: 2,
        name: "beta",
        interface: "eth2",
        nextHop: "203.0.113.1",
        localAddress: "203.0.113.2/26",
      },
    ],
    pools: [
      {
        id: "pool-alpha",
        name: "alpha-onlink",
        ispId: "isp-alpha",
        mode: "on-link",
        addresses: ["198.51.100.10-198.51.100.17"],
      },
      {
        id: "pool-beta",
        name: "beta-routed",
        ispId: "isp-beta",
        mode: "routed",
        addresses: ["203.0.113.100-203.0.113.103"],
      },
    ],
    zones: [{ id: "zone-lan", name: "lan", networks: ["100.64.0.0/24"] }],
    rules: [
      {
        id: "rule-alpha",
        seq: 1,
        source: { kind: "zone", zoneId: "zone-lan" },
        egressIspId: "isp-alpha",
        action: { type: "snat", poolId: "pool-alpha", algorithm: "sh" },
      },
      {
        id: "rule-beta",
        seq: 2,
        source: { kind: "zone", zoneId: "zone-lan" },
        egressIspId: "isp-beta",
        action: { type: "snat", poolId: "pool-beta", algorithm: "sh" },
      },
    ],
  });
}

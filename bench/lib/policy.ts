import { entry, gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import type { GatewaySpec } from "../../core/spec/schema";
import type { Lab } from "../../testkit/lab/lab";

/**
 * The benchmark's policy: n rules, each for its own /26 under 100.96.0.0/11 and varied enough
 * (four pools, some with a destination, some UDP only) that the renderer cannot fold them into a
 * handful of chains. The last rule holds the sending client's address, so linear rulesets walk
 * all n rules for every new connection.
 */
export const POOL_ADDRESSES = {
  pa: ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"],
  pa2: ["198.51.100.20", "198.51.100.21"],
  pb: ["198.51.100.130", "198.51.100.131"],
  pbf: ["198.51.100.140"],
} as const;
const POOL_IDS = ["pa", "pa2", "pb", "pbf"] as const;

const BASE = (100 * 2 ** 24 + 96 * 2 ** 16) >>> 0;
const dotted = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

export interface BenchRule {
  source: string;
  destination: string | null;
  udpOnly: boolean;
  pool: (typeof POOL_IDS)[number];
}

export function benchRules(n: number): BenchRule[] {
  if (n > 32_768) throw new Error("at most 32768 /26 networks fit under 100.96.0.0/11");
  return Array.from({ length: n }, (_, i) => {
    const last = i === n - 1;
    return {
      source: `${dotted(BASE + i * 64)}/26`,
      destination: !last && i % 3 === 0 ? "203.0.113.0/25" : null,
      udpOnly: !last && i % 5 === 0,
      pool: last ? "pa" : (POOL_IDS[i % POOL_IDS.length] as BenchRule["pool"]),
    };
  });
}

/** An address inside the last rule's network: the client sends from it. */
export function lastRuleAddress(n: number): string {
  return dotted(BASE + (n - 1) * 64 + 1);
}

export function benchSpec(lab: Lab, rules: BenchRule[], revision = 1): GatewaySpec {
  return gatewaySpec({
    isps: [
      isp("a", 1, lab.ispA.gatewayInterface, lab.ispA.nextHop),
      isp("b", 2, lab.ispB.gatewayInterface, lab.ispB.nextHop),
    ],
    pools: POOL_IDS.map((id) => pool(id, id.startsWith("pa") ? "a" : "b", [...POOL_ADDRESSES[id]])),
    entries: rules.map((r) =>
      entry(
        r.source,
        { snat: r.pool, algorithm: "sh" },
        { destination: r.destination, protocol: r.udpOnly ? "udp" : "any" },
      ),
    ),
    revision,
  });
}

/** The same policy as linear iptables rules (SNAT to the pool range; --persistent hashes the source). */
export function iptablesRestore(rules: BenchRule[]): string {
  const lines = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
  ];
  for (const r of rules) {
    const addrs = POOL_ADDRESSES[r.pool];
    const range = addrs.length === 1 ? addrs[0] : `${addrs[0]}-${addrs[addrs.length - 1]}`;
    const dst = r.destination === null ? "" : ` -d ${r.destination}`;
    const proto = r.udpOnly ? " -p udp" : "";
    lines.push(`-A POSTROUTING -s ${r.source}${dst}${proto} -j SNAT --to-source ${range} --persistent`);
  }
  lines.push("COMMIT", "");
  return lines.join("\n");
}

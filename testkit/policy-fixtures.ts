import {
  type Algorithm,
  type Isp,
  type Policy,
  type Pool,
  type Protocol,
  type Rule,
  type Zone,
  zPolicy,
} from "../core/policy/model";
import { standaloneHa } from "../core/policy/ha";

/**
 * Example policies: a small realistic one for tests and the demo seed, and a deterministic
 * generator for large ones, both with every default filled in as a saved draft has them. Only
 * shared and documentation address space is used (100.64.0.0/10, 198.51.100.0/24, 203.0.113.0/24).
 */

const monitor = { intervalMs: 200, downAfter: 3, upAfter: 5, holdDownMs: 10_000 };

/**
 * Three uplinks (two fibre ISPs and an LTE modem behind carrier NAT), five pools, four zones and
 * eleven rules. It has no validation issues and no warnings.
 */
export function examplePolicy(): Policy {
  return zPolicy.parse({
    settings: { unmatched: "drop", hashSeed: 0x5eed },
    isps: [
      {
        id: "isp-telia",
        index: 1,
        name: "telia",
        interface: "eth1",
        nextHop: "198.51.100.1",
        monitor,
        failoverMode: "automatic",
        failbackMode: "automatic",
        backupIspIds: ["isp-cogent", "isp-lte"],
        defaultPoolId: "pool-telia-main",
        comment: "1 Gb/s fibre, primary",
      },
      {
        id: "isp-cogent",
        index: 2,
        name: "cogent",
        interface: "eth2",
        nextHop: "203.0.113.1",
        probeTargets: ["203.0.113.1", "203.0.113.2"],
        monitor,
        failoverMode: "automatic",
        backupIspIds: ["isp-telia"],
        defaultPoolId: "pool-cogent-main",
      },
      {
        id: "isp-lte",
        index: 3,
        name: "lte-backup",
        interface: "wwan0",
        nextHop: "100.127.255.1",
        monitor: { ...monitor, intervalMs: 1000, lossThresholdPct: 20 },
        defaultPoolId: "pool-lte",
        comment: "metered: last resort",
      },
    ],
    pools: [
      { id: "pool-telia-main", name: "telia-main", ispId: "isp-telia", addresses: ["198.51.100.10-198.51.100.17"] },
      {
        id: "pool-telia-servers",
        name: "telia-servers",
        ispId: "isp-telia",
        addresses: ["198.51.100.40-198.51.100.43"],
      },
      { id: "pool-cogent-main", name: "cogent-main", ispId: "isp-cogent", addresses: ["203.0.113.10-203.0.113.17"] },
      {
        id: "pool-cogent-guest",
        name: "cogent-guest",
        ispId: "isp-cogent",
        addresses: ["203.0.113.64/29"],
        portRange: { from: 10_000, to: 60_999 },
      },
      { id: "pool-lte", name: "lte", ispId: "isp-lte", addresses: ["100.127.255.2"] },
    ],
    zones: [
      { id: "zone-office", name: "office", networks: ["100.64.1.0/24", "100.64.2.0/24"] },
      { id: "zone-servers", name: "servers", networks: ["100.64.10.0/24"] },
      { id: "zone-guest", name: "guest-wifi", networks: ["100.64.128.0/20"] },
      { id: "zone-lab", name: "lab", networks: ["100.64.20.0/24"] },
    ],
    rules: [
      {
        id: "rule-office-telia",
        seq: 1,
        source: { kind: "zone", zoneId: "zone-office" },
        egressIspId: "isp-telia",
        action: { type: "snat", poolId: "pool-telia-main", algorithm: "sh" },
        comment: "office via Telia",
      },
      {
        id: "rule-office-cogent",
        seq: 2,
        source: { kind: "zone", zoneId: "zone-office" },
        egressIspId: "isp-cogent",
        action: { type: "snat", poolId: "pool-cogent-main", algorithm: "sh" },
        comment: "office via Cogent",
      },
      {
        id: "rule-servers-telia",
        seq: 3,
        source: { kind: "zone", zoneId: "zone-servers" },
        egressIspId: "isp-telia",
        action: { type: "snat", poolId: "pool-telia-servers", algorithm: "sdh" },
      },
      {
        id: "rule-servers-cogent",
        seq: 4,
        source: { kind: "zone", zoneId: "zone-servers" },
        egressIspId: "isp-cogent",
        action: { type: "snat", poolId: "pool-cogent-main", algorithm: "sdh" },
        fallbackPoolId: "pool-telia-servers",
        comment: "servers keep their Telia addresses if Cogent fails",
      },
      {
        id: "rule-guest",
        seq: 5,
        source: { kind: "zone", zoneId: "zone-guest" },
        action: { type: "snat", poolId: "pool-cogent-guest", algorithm: "sdph" },
        redirectIspId: "isp-cogent",
        comment: "guests always leave via Cogent",
      },
      {
        id: "rule-partner",
        seq: 6,
        source: { kind: "zone", zoneId: "zone-office" },
        destinations: ["198.51.100.128/25"],
        egressIspId: "isp-telia",
        action: { type: "exclude" },
        comment: "partner network sees our private addresses",
      },
      {
        id: "rule-lab-dns",
        seq: 7,
        priority: 10,
        source: { kind: "zone", zoneId: "zone-lab" },
        destinations: ["203.0.113.53/32"],
        protocol: "udp",
        action: { type: "drop" },
        comment: "lab must use the internal resolver",
      },
      {
        id: "rule-lab-telia",
        seq: 8,
        source: { kind: "zone", zoneId: "zone-lab" },
        egressIspId: "isp-telia",
        action: { type: "snat", poolId: "pool-telia-main", algorithm: "random" },
      },
      {
        id: "rule-lab-cogent",
        seq: 9,
        source: { kind: "zone", zoneId: "zone-lab" },
        egressIspId: "isp-cogent",
        action: { type: "snat", poolId: "pool-cogent-main", algorithm: "rr" },
      },
      {
        id: "rule-old-vpn",
        seq: 10,
        source: { kind: "cidrs", cidrs: ["100.64.30.0/24"] },
        egressIspId: "isp-telia",
        action: { type: "snat", poolId: "pool-telia-main", algorithm: "sh" },
        enabled: false,
        comment: "old VPN range, kept for reference",
      },
      {
        id: "rule-office-lte",
        seq: 11,
        source: { kind: "zone", zoneId: "zone-office" },
        egressIspId: "isp-lte",
        action: { type: "snat", poolId: "pool-lte", algorithm: "sh" },
      },
    ],
  });
}

/** mulberry32: a tiny seeded PRNG so generated policies are the same on every machine. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  rules: number;
  seed?: number;
  /**
   * false (default): every rule has its own source network, as in a large real policy.
   * true: sources, destinations and zones come from a few small blocks so rules overlap, shadow
   * each other and use every feature; meant for property tests.
   */
  overlapping?: boolean;
  /** 1 to 3 uplinks (default 3) */
  isps?: number;
}

const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const V = (a: number, b: number, c: number, d: number) => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
const cidr = (base: number, prefix: number) => {
  const size = 2 ** (32 - prefix);
  return `${ip(base - (base % size))}/${prefix}`;
};

const UPLINKS = [
  { name: "telia", interface: "eth1", net: V(198, 51, 100, 0) },
  { name: "cogent", interface: "eth2", net: V(203, 0, 113, 0) },
  { name: "lte", interface: "wwan0", net: V(100, 127, 255, 0) },
] as const;

/** A valid policy with the given number of rules; the same options always give the same policy. */
export function generatePolicy(options: GenerateOptions): Policy {
  const rand = seededRandom(options.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const chance = (p: number) => rand() < p;
  const overlapping = options.overlapping ?? false;
  const uplinks = UPLINKS.slice(0, Math.min(3, Math.max(1, options.isps ?? 3)));

  const isps: Isp[] = [];
  const pools: Pool[] = [];
  uplinks.forEach((u, i) => {
    const ispId = `isp-${u.name}`;
    pools.push(
      {
        id: `pool-${u.name}-a`,
        name: `${u.name}-a`,
        ispId,
        mode: "routed",
        addresses: [`${ip(u.net + 16)}/28`],
        portRange: null,
        comment: "",
      },
      {
        id: `pool-${u.name}-b`,
        name: `${u.name}-b`,
        ispId,
        mode: "routed",
        addresses: [`${ip(u.net + 32)}-${ip(u.net + 35)}`],
        portRange: i === 1 ? { from: 20_000, to: 59_999 } : null,
        comment: "",
      },
    );
    const others = uplinks.filter((o) => o !== u).map((o) => `isp-${o.name}`);
    isps.push({
      id: ispId,
      index: i + 1,
      name: u.name,
      interface: u.interface,
      addressing: "static",
      nextHop: ip(u.net + 1),
      localAddress: null,
      probeTargets: [],
      monitor: { ...monitor, lossThresholdPct: 50, latencyThresholdMs: 1000 },
      failoverMode: i === 0 ? "automatic" : "manual",
      failbackMode: "manual",
      flushOnFailback: false,
      backupIspIds: overlapping ? others.filter(() => chance(0.7)) : others,
      defaultPoolId: overlapping && chance(0.3) ? null : `pool-${u.name}-a`,
      comment: "",
    });
  });
  const poolsOf = (ispId: string) => pools.filter((p) => p.ispId === ispId);

  // zones live in 100.112.0.0/13 (distinct mode) or inside the small overlapping source block
  const zones: Zone[] = [];
  const zoneCount = overlapping ? 4 : 8;
  for (let z = 0; z < zoneCount; z++) {
    const networks = new Set<string>();
    const n = overlapping ? 1 + Math.floor(rand() * 3) : 2;
    for (let k = 0; k < n; k++) {
      networks.add(
        overlapping
          ? cidr(V(100, 64, 0, 0) + Math.floor(rand() * 1024), 22 + Math.floor(rand() * 11))
          : cidr(V(100, 112, z, 0) + k * 128, 25),
      );
    }
    zones.push({ id: `zone-${z}`, name: `zone-${z}`, networks: [...networks], comment: "" });
  }

  const blockSize = options.rules <= 12_288 ? 256 : 16;
  const rules: Rule[] = [];
  for (let i = 0; i < options.rules; i++) {
    let source: Rule["source"];
    if (overlapping) {
      if (chance(0.3)) source = { kind: "zone", zoneId: pick(zones).id };
      else {
        const cidrs = new Set<string>();
        const n = chance(0.8) ? 1 : 2;
        for (let k = 0; k < n; k++)
          cidrs.add(cidr(V(100, 64, 0, 0) + Math.floor(rand() * 1024), 22 + Math.floor(rand() * 11)));
        source = { kind: "cidrs", cidrs: [...cidrs] };
      }
    } else {
      // distinct blocks in 100.64.0.0-100.111.255.255, each rule a network at the start of its own block
      const prefix = pick(blockSize === 256 ? [24, 24, 25, 26, 28, 32] : [28, 29, 30, 32]);
      source = { kind: "cidrs", cidrs: [cidr(V(100, 64, 0, 0) + i * blockSize, prefix)] };
    }

    const destinations = new Set<string>();
    if (chance(overlapping ? 0.5 : 0.2)) {
      const n = chance(0.8) ? 1 : 2;
      for (let k = 0; k < n; k++) {
        destinations.add(
          overlapping
            ? cidr(V(203, 0, 113, 0) + Math.floor(rand() * 256), 24 + Math.floor(rand() * 9))
            : cidr(V(198, 51, 100, 128) + Math.floor(rand() * 128), pick([25, 27, 29, 32])),
        );
      }
    }
    const protocol: Protocol = chance(0.7) ? "any" : pick(["tcp", "udp", "icmp"] as const);
    const egress = overlapping && chance(0.25) ? null : pick(isps);
    const redirect =
      isps.length > 1 && chance(overlapping ? 0.15 : 0.03) ? pick(isps.filter((x) => x.id !== egress?.id)) : null;
    const via = redirect ?? egress ?? pick(isps);
    const roll = rand();
    let action: Rule["action"];
    if (roll < 0.82) {
      action = {
        type: "snat",
        poolId: pick(poolsOf(via.id)).id,
        algorithm: pick<Algorithm>(["sh", "sdh", "sdph", "random", "rr"]),
      };
    } else if (roll < 0.93 || redirect !== null) action = { type: "exclude" };
    else action = { type: "drop" };
    let fallbackPoolId: string | null = null;
    const backup = via.backupIspIds[0];
    if (action.type === "snat" && backup !== undefined && chance(overlapping ? 0.3 : 0.1)) {
      fallbackPoolId = pick(poolsOf(backup)).id;
    }
    rules.push({
      id: `rule-${i + 1}`,
      seq: i + 1,
      priority: chance(overlapping ? 0.2 : 0.02) ? Math.floor(rand() * (overlapping ? 5 : 100)) : null,
      source,
      destinations: [...destinations],
      protocol,
      egressIspId: egress?.id ?? null,
      action,
      redirectIspId: redirect?.id ?? null,
      ...failoverBehaviour(i, overlapping, action, via, isps, poolsOf, fallbackPoolId),
      enabled: !chance(overlapping ? 0.1 : 0.02),
      comment: "",
    });
  }
  return {
    settings: {
      unmatched: overlapping && chance(0.5) ? "forward" : "drop",
      hashSeed: 0x5eed,
      lanInterfaces: [],
      internalInterfaces: [],
      ha: standaloneHa(),
      gateways: [],
    },
    isps,
    pools,
    zones,
    rules,
  };
}

/**
 * Some rules of the overlapping policies never move or have their own backup, chosen by position
 * so that the random stream (and every other generated rule) stays as it was.
 */
function failoverBehaviour(
  i: number,
  overlapping: boolean,
  action: Rule["action"],
  via: Isp,
  isps: Isp[],
  poolsOf: (ispId: string) => Pool[],
  fallbackPoolId: string | null,
): Pick<Rule, "onFailover" | "failoverIspId" | "fallbackPoolId"> {
  const follow = { onFailover: "follow" as const, failoverIspId: null, fallbackPoolId };
  if (!overlapping || action.type === "drop") return follow;
  if (i % 7 === 3) return { onFailover: "stay", failoverIspId: null, fallbackPoolId: null };
  const own = isps.find((x) => x.id !== via.id && poolsOf(x.id).length > 0);
  if (i % 7 === 5 && own !== undefined) {
    const pool = action.type === "snat" ? (poolsOf(own.id)[0]?.id ?? null) : null;
    return { onFailover: "own", failoverIspId: own.id, fallbackPoolId: pool };
  }
  return follow;
}

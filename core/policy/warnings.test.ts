import fc from "fast-check";
import { standaloneHa } from "./ha";
import { describe, expect, it } from "vitest";
import { decide, type PacketProtocol } from "../spec/decide";
import { compileGatewaySpec } from "./compile";
import { examplePolicy, generatePolicy, seededRandom } from "../../testkit/policy-fixtures";
import { type Policy, type Rule, zPolicy, zRule } from "./model";
import { bigIntToIPv4, parseCidr } from "../address";
import { validatePolicy } from "./validate";
import {
  describeWarning,
  MIN_PORTS_PER_CLIENT,
  type PolicyWarning,
  sliceWarnings,
  policyWarnings,
  type WarningCode,
} from "./warnings";

/** The example policy with extra rules (defaults filled in) and optional edits. */
function withRules(extra: Array<Record<string, unknown>>, change?: (p: Policy) => void): Policy {
  const p = examplePolicy();
  p.rules.push(...extra.map((r, i) => zRule.parse({ seq: 100 + i, egressIspId: "isp-telia", ...r })));
  change?.(p);
  expect(validatePolicy(p)).toEqual([]);
  return p;
}
const only = (ws: PolicyWarning[], code: WarningCode) => ws.filter((w) => w.code === code);
const snat = (poolId: string) => ({ type: "snat", poolId, algorithm: "sh" });

describe("policyWarnings: shadowed rules", () => {
  it("reports a rule whose traffic an earlier rule always takes, naming it by position", () => {
    const p = withRules([
      {
        id: "wide-first",
        priority: 1,
        source: { kind: "cidrs", cidrs: ["100.70.0.0/16"] },
        action: snat("pool-telia-main"),
      },
      {
        id: "narrow",
        source: { kind: "cidrs", cidrs: ["100.70.7.0/24"] },
        protocol: "tcp",
        action: snat("pool-telia-main"),
      },
    ]);
    const ws = only(policyWarnings(p), "rule-shadowed");
    expect(ws).toEqual([
      {
        entity: "rule",
        id: "narrow",
        code: "rule-shadowed",
        path: [],
        message:
          "never matches: every connection it could match is taken first by rule #1 (same or wider source, destination, protocol and egress ISP)",
        related: [{ entity: "rule", id: "wide-first" }],
      },
    ]);
  });

  it("does not report a rule the earlier one covers only partly", () => {
    const cases: Array<Record<string, unknown>> = [
      { protocol: "tcp" }, // the earlier rule takes only tcp
      { egressIspId: "isp-cogent" }, // only another uplink
      { destinations: ["203.0.113.0/24"] }, // only some destinations
      { source: { kind: "cidrs", cidrs: ["100.70.7.0/25"] } }, // only half the sources
    ];
    for (const earlier of cases) {
      const p = withRules([
        {
          id: "first",
          priority: 1,
          source: { kind: "cidrs", cidrs: ["100.70.7.0/24"] },
          action: snat("pool-telia-main"),
          ...earlier,
          ...(earlier.egressIspId ? { action: snat("pool-cogent-main") } : {}),
        },
        { id: "second", source: { kind: "cidrs", cidrs: ["100.70.7.0/24"] }, action: snat("pool-telia-main") },
      ]);
      expect(only(policyWarnings(p), "rule-shadowed")).toEqual([]);
    }
  });

  it("needs every entry covered: a zone rule with one free network still matches", () => {
    const zone = { id: "zone-x", name: "x", networks: ["100.70.1.0/24", "100.70.2.0/24"], comment: "" };
    const rules = [
      { id: "a", priority: 0, source: { kind: "cidrs", cidrs: ["100.70.1.0/24"] }, action: snat("pool-telia-main") },
      { id: "b", priority: 0, source: { kind: "cidrs", cidrs: ["100.70.2.0/24"] }, action: snat("pool-telia-main") },
      { id: "zone-rule", source: { kind: "zone", zoneId: "zone-x" }, action: snat("pool-telia-main") },
    ];
    const partly = withRules([rules[0], rules[2]] as Array<Record<string, unknown>>, (p) => p.zones.push(zone));
    expect(only(policyWarnings(partly), "rule-shadowed")).toEqual([]);
    const fully = withRules(rules, (p) => p.zones.push(zone));
    const ws = only(policyWarnings(fully), "rule-shadowed");
    expect(ws.map((w) => w.id)).toEqual(["zone-rule"]);
    expect(ws[0]?.message).toContain("taken first by rules #1 and #2 (");
  });

  it("treats an explicit 0.0.0.0/0 destination like none, and same-source later rules as shadowed", () => {
    const p = withRules([
      {
        id: "all-dst",
        source: { kind: "cidrs", cidrs: ["100.70.7.0/24"] },
        destinations: ["0.0.0.0/0"],
        action: { type: "exclude" },
      },
      { id: "no-dst", source: { kind: "cidrs", cidrs: ["100.70.7.0/24"] }, action: snat("pool-telia-main") },
    ]);
    expect(only(policyWarnings(p), "rule-shadowed").map((w) => w.id)).toEqual(["no-dst"]);
  });

  it("is never wrong: a packet matching any entry of a reported rule is always taken by an earlier rule", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const p = generatePolicy({ rules: 50, seed, overlapping: true });
        const shadowed = new Set(only(policyWarnings(p), "rule-shadowed").map((w) => w.id));
        if (shadowed.size === 0) return;
        const spec = compileGatewaySpec({
          policy: p,
          revision: 1,
          clusterId: "c",
          clusterName: "c",
          gateway: { id: "g", name: "g" },
          failover: [],
          failoverEpoch: 0,
        });
        const rand = seededRandom(seed);
        const inside = (cidr: string | null) => {
          const r = parseCidr(cidr ?? "0.0.0.0/0");
          if (!r.ok) throw new Error(cidr ?? "");
          const size = Number(r.value.end - r.value.start) + 1;
          return bigIntToIPv4(r.value.start + BigInt(Math.floor(rand() * size)));
        };
        for (const entry of spec.entries.filter((e) => shadowed.has(e.ruleId))) {
          for (let k = 0; k < 5; k++) {
            const protocol: PacketProtocol =
              entry.protocol === "any" ? ((["tcp", "udp", "icmp"] as const)[k % 3] ?? "tcp") : entry.protocol;
            const routedIspId = entry.egressIspId ?? (p.isps[k % p.isps.length]?.id as string);
            const packet = {
              src: inside(entry.source),
              dst: inside(entry.destination),
              protocol,
              routedIspId,
              srcPort: 40000,
              dstPort: 443,
            };
            const d = decide(spec, new Map(), packet);
            expect(d.matched).not.toBeNull();
            expect(d.matched?.ruleId).not.toBe(entry.ruleId);
          }
        }
      }),
      { numRuns: 120 },
    );
  });
});

describe("policyWarnings: zones and pools", () => {
  it("has nothing to say about the example", () => {
    expect(policyWarnings(examplePolicy())).toEqual([]);
  });

  it("reports overlapping zones on both zones", () => {
    const p = examplePolicy();
    (p.zones[3] as { networks: string[] }).networks = ["100.64.20.0/24", "100.64.0.0/16"];
    const ws = only(policyWarnings(p), "zone-overlap");
    expect(ws.map((w) => [w.id, w.message])).toEqual([
      [
        "zone-lab",
        'overlaps zone "office" (100.64.1.0/24 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
      [
        "zone-office",
        'overlaps zone "lab" (100.64.1.0/24 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
      [
        "zone-lab",
        'overlaps zone "servers" (100.64.10.0/24 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
      [
        "zone-servers",
        'overlaps zone "lab" (100.64.10.0/24 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
      [
        "zone-lab",
        'overlaps zone "guest-wifi" (100.64.128.0/20 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
      [
        "zone-guest",
        'overlaps zone "lab" (100.64.128.0/20 is inside 100.64.0.0/16); rules with a pinned position decide first, the others by the most specific source, which may not be the zone you expect',
      ],
    ]);
  });

  it("says that a pinned position decides first only when a rule of either zone has one", () => {
    // the example pins the lab's DNS rule (priority 10)
    const p = examplePolicy();
    (p.zones[3] as { networks: string[] }).networks = ["100.64.0.0/16"];
    const first = (q: typeof p) => only(policyWarnings(q), "zone-overlap")[0]?.message;
    expect(first(p)).toMatch(/; rules with a pinned position decide first, the others by the most specific source/);
    (p.rules.find((r) => r.id === "rule-lab-dns") as { priority: number | null }).priority = null;
    expect(first(p)).toMatch(/; rules decide by the most specific source, which may not be the zone you expect$/);
  });

  it("reports identical networks in two zones", () => {
    const p = examplePolicy();
    (p.zones[1] as { networks: string[] }).networks = ["100.64.10.0/24", "100.64.2.0/24"];
    const ws = only(policyWarnings(p), "zone-overlap");
    expect(ws.map((w) => w.message.split(";")[0])).toEqual([
      'overlaps zone "servers" (both have 100.64.2.0/24)',
      'overlaps zone "office" (both have 100.64.2.0/24)',
    ]);
  });

  it("reports unused pools, and pools only disabled rules use", () => {
    const p = examplePolicy();
    p.pools.push({
      id: "pool-spare",
      name: "spare",
      ispId: "isp-telia",
      mode: "routed",
      addresses: ["198.51.100.50"],
      portRange: null,
      comment: "",
    });
    (p.rules.find((r) => r.id === "rule-old-vpn") as { action: unknown }).action = snat("pool-spare");
    p.pools.push({
      id: "pool-idle",
      name: "idle",
      ispId: "isp-telia",
      mode: "routed",
      addresses: ["198.51.100.51"],
      portRange: null,
      comment: "",
    });
    expect(only(policyWarnings(p), "pool-unused").map((w) => [w.id, w.message])).toEqual([
      ["pool-spare", "is used only by disabled rules: no connection gets its addresses"],
      ["pool-idle", "no rule, fallback or ISP default uses this pool: no connection gets its addresses"],
    ]);
  });

  it("explains when a pool has too few ports for the clients it serves", () => {
    const p = examplePolicy();
    // lab (/24) and office (2 x /24) share one address with 500 ports: 500 / 768 clients
    (p.pools.find((x) => x.id === "pool-telia-main") as { addresses: string[]; portRange: unknown }).addresses = [
      "198.51.100.10",
    ];
    (p.pools.find((x) => x.id === "pool-telia-main") as { portRange: unknown }).portRange = { from: 40000, to: 40499 };
    const ws = only(policyWarnings(p), "pool-too-small");
    expect(ws).toHaveLength(1);
    expect(ws[0]?.id).toBe("pool-telia-main");
    expect(ws[0]?.message).toBe(
      `1 address × 500 ports (40000-40499) = 500 source ports for 768 client addresses (sources of rules #3 and #7): 0.65 ports per client for any one destination, below ${MIN_PORTS_PER_CLIENT}; add addresses or widen the port range`,
    );
    expect(ws[0]?.related.map((r) => r.id).sort()).toEqual(["rule-lab-telia", "rule-office-telia"]);
  });

  it("counts overlapping sources once and uses the full port range when none is set", () => {
    const p = withRules([
      {
        id: "big",
        source: { kind: "cidrs", cidrs: ["100.80.0.0/12", "100.80.0.0/13"] },
        action: snat("pool-lte"),
        egressIspId: "isp-lte",
      },
    ]);
    const w = only(policyWarnings(p), "pool-too-small")[0];
    expect(w?.message).toContain("1 address × 64,512 ports (1024-65535, no port range set) = 64,512 source ports");
    expect(w?.message).toContain("for 1,049,088 client addresses"); // 2^20 + the office's 512
  });

  it("does not count a catch-all source (wider than a /8) as clients", () => {
    const everyone = (cidrs: string[]) =>
      withRules([{ id: "all", source: { kind: "cidrs", cidrs }, action: snat("pool-lte"), egressIspId: "isp-lte" }]);
    // 0.0.0.0/0 beside the office's 512 addresses: 512 clients on 64,512 ports is enough
    expect(only(policyWarnings(everyone(["0.0.0.0/0"])), "pool-too-small")).toEqual([]);
    // a /8 still counts: 16.7 million clients on one address is too many
    const w = only(policyWarnings(everyone(["100.0.0.0/8"])), "pool-too-small")[0];
    expect(w?.message).toContain("for 16,777,216 client addresses");
  });
});

describe("policyWarnings: ISPs of pools and failover", () => {
  it("reports a pool of another ISP than the one the rule leaves through", () => {
    const p = withRules([
      { id: "crossed", source: { kind: "cidrs", cidrs: ["100.64.50.0/24"] }, action: snat("pool-cogent-main") },
      {
        id: "redirected",
        source: { kind: "cidrs", cidrs: ["100.64.51.0/24"] },
        redirectIspId: "isp-lte",
        action: snat("pool-telia-main"),
      },
    ]);
    expect(only(policyWarnings(p), "pool-isp-mismatch").map((w) => [w.id, w.message])).toEqual([
      [
        "crossed",
        'pool "cogent-main" belongs to ISP "cogent", but the rule\'s egress ISP is "telia": its connections would leave through "telia" with "cogent"\'s addresses',
      ],
      [
        "redirected",
        'pool "telia-main" belongs to ISP "telia", but the rule\'s redirect ISP is "lte-backup": its connections would leave through "lte-backup" with "telia"\'s addresses',
      ],
    ]);
  });

  it("reports a SNAT rule for any uplink when there are several", () => {
    const p = withRules([
      {
        id: "anywhere",
        egressIspId: null,
        source: { kind: "cidrs", cidrs: ["100.64.50.0/24"] },
        action: snat("pool-telia-main"),
      },
    ]);
    const ws = only(policyWarnings(p), "pool-any-egress");
    expect(ws.map((w) => w.message)).toEqual([
      'matches traffic leaving through any ISP, but pool "telia-main" belongs to "telia": connections routed through "cogent" and "lte-backup" would carry "telia"\'s addresses; set an egress ISP or a redirect',
    ]);
  });

  it("reports failovers without a pool, on the ISP and on the rules", () => {
    const p = examplePolicy();
    (p.isps.find((i) => i.id === "isp-lte") as { defaultPoolId: string | null }).defaultPoolId = null;
    const ws = policyWarnings(p);
    expect(only(ws, "backup-no-default-pool").map((w) => [w.id, w.path, w.message])).toEqual([
      [
        "isp-telia",
        ["backupIspIds", 1],
        'backup ISP "lte-backup" has no default pool: on failover, SNAT rules without a fallback pool keep this ISP\'s addresses, which "lte-backup" will not route back',
      ],
    ]);
    expect(only(ws, "failover-no-pool").map((w) => [w.id, w.message])).toEqual([
      [
        "rule-office-telia",
        'has no pool for failover "telia" → "lte-backup": no fallback pool and the backup has no default pool, so connections would keep pool "telia-main"\'s addresses through the backup',
      ],
      [
        "rule-servers-telia",
        'has no pool for failover "telia" → "lte-backup": no fallback pool and the backup has no default pool, so connections would keep pool "telia-servers"\'s addresses through the backup',
      ],
      [
        "rule-lab-telia",
        'has no pool for failover "telia" → "lte-backup": no fallback pool and the backup has no default pool, so connections would keep pool "telia-main"\'s addresses through the backup',
      ],
    ]);
  });

  it("reports a fallback pool that does not belong to the backup taking the traffic", () => {
    const p = examplePolicy();
    (p.rules.find((r) => r.id === "rule-office-telia") as { fallbackPoolId: string }).fallbackPoolId =
      "pool-cogent-main";
    expect(only(policyWarnings(p), "failover-pool-mismatch").map((w) => w.message)).toEqual([
      'on failover its fallback pool does not belong to the backup: "telia" → "lte-backup" uses "cogent-main" of "cogent"',
    ]);
  });

  it("reports automatic failover without backups", () => {
    const p = examplePolicy();
    (p.isps.find((i) => i.id === "isp-lte") as { failoverMode: string }).failoverMode = "automatic";
    expect(only(policyWarnings(p), "failover-no-backup").map((w) => w.id)).toEqual(["isp-lte"]);
  });

  it("describes a warning with its entity", () => {
    const p = examplePolicy();
    (p.isps.find((i) => i.id === "isp-lte") as { failoverMode: string }).failoverMode = "automatic";
    const w = only(policyWarnings(p), "failover-no-backup")[0] as PolicyWarning;
    expect(describeWarning(p, w)).toMatch(/^ISP "lte-backup": fails over automatically/);
  });
});

describe("policyWarnings at scale", () => {
  it("handles 10,000 rules in well under a second", () => {
    const p = generatePolicy({ rules: 10_000, seed: 2 });
    const t = performance.now();
    const ws = policyWarnings(p);
    const ms = performance.now() - t;
    expect(ms).toBeLessThan(5_000);
    expect(ws.length).toBeGreaterThan(0);
  });

  it("finds shadowing among 10,000 rules without comparing every pair", () => {
    const p = generatePolicy({ rules: 10_000, seed: 2 });
    // copy every rule's source into a later rule: each copy is shadowed by its original
    const copies = p.rules
      .slice(0, 5000)
      .map((r, i) =>
        zRule.parse({ ...r, id: `copy-${i}`, seq: 20_000 + i, priority: null, enabled: true } satisfies Rule),
      );
    const originals = new Set(
      p.rules
        .slice(0, 5000)
        .filter((r) => r.enabled && r.priority === null)
        .map((r) => r.id),
    );
    const big = zPolicy.parse({ ...p, rules: [...p.rules, ...copies] });
    const t = performance.now();
    const shadowed = only(policyWarnings(big), "rule-shadowed");
    expect(performance.now() - t).toBeLessThan(15_000);
    const copied = shadowed.filter((w) => w.id?.startsWith("copy-"));
    // every copy of an enabled rule without priority is shadowed by the original
    expect(copied.length).toBeGreaterThanOrEqual(originals.size);
  });
});

describe("sliceWarnings", () => {
  it("names the pools that cannot give every active gateway an address of its own", () => {
    const p = examplePolicy();
    const short = sliceWarnings(p, ["g1", "g2"]);
    expect(short.map((w) => [w.id, w.code])).toEqual([["pool-lte", "pool-fewer-than-gateways"]]);
    expect(short[0]?.message).toMatch(/^1 address for 2 active gateways/);
    expect(sliceWarnings(p, ["g1", "g2", "g3"]).map((w) => w.id)).toEqual(["pool-lte"]);
    // five gateways: the 4-address servers pool is short too
    expect(sliceWarnings(p, ["g1", "g2", "g3", "g4", "g5"]).map((w) => w.id)).toEqual([
      "pool-telia-servers",
      "pool-lte",
    ]);
  });

  it("says nothing for a lone gateway or an active/standby pair", () => {
    const p = examplePolicy();
    expect(sliceWarnings(p, ["g1"])).toEqual([]);
    expect(
      sliceWarnings({ ...p, settings: { ...p.settings, ha: { ...standaloneHa(), mode: "active_standby" } } }, [
        "g1",
        "g2",
      ]),
    ).toEqual([]);
  });
});

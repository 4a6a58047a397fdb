import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { examplePolicy, generatePolicy } from "../../testkit/policy-fixtures";
import { type Isp, type Policy, type Pool, type Rule, zPolicy } from "./model";
import { dependentsOf, describeIssue, MAX_ENTRIES, type PolicyIssue, validateEntity, validatePolicy } from "./validate";
import { fieldLabel } from "./wording";

/** Edits a fresh example policy in place and returns it. */
function edit(change: (p: Policy) => void): Policy {
  const p = examplePolicy();
  change(p);
  return p;
}
const isp = (p: Policy, id: string) => p.isps.find((x) => x.id === id) as Isp;
const pool = (p: Policy, id: string) => p.pools.find((x) => x.id === id) as Pool;
const rule = (p: Policy, id: string) => p.rules.find((x) => x.id === id) as Rule;
const issuesOf = (issues: PolicyIssue[], entity: string, id: string | null) =>
  issues.filter((i) => i.entity === entity && i.id === id).map((i) => ({ path: i.path, message: i.message }));

describe("validatePolicy: field schemas", () => {
  it("accepts the example policy", () => {
    expect(validatePolicy(examplePolicy())).toEqual([]);
  });

  it("turns schema problems into labelled messages with field paths", () => {
    const p = edit((p) => {
      (isp(p, "isp-telia") as { name: string }).name = "";
      (rule(p, "rule-lab-telia") as { priority: number }).priority = 1.5;
      (rule(p, "rule-old-vpn") as { source: unknown }).source = { kind: "cidrs", cidrs: ["100.64.30.1/24"] };
      (pool(p, "pool-lte") as { portRange: unknown }).portRange = { from: 2000, to: 1000 };
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "isp", "isp-telia")).toContainEqual({ path: ["name"], message: "name is required" });
    expect(issuesOf(issues, "rule", "rule-lab-telia")).toContainEqual({
      path: ["priority"],
      message: "priority must be a whole number",
    });
    expect(issuesOf(issues, "rule", "rule-old-vpn")).toEqual([
      {
        path: ["source", "cidrs", 0],
        message: 'source network 1: "100.64.30.1/24" has host bits set; did you mean 100.64.30.0/24?',
      },
    ]);
    expect(issuesOf(issues, "pool", "pool-lte")).toEqual([
      { path: ["portRange", "to"], message: "last port: the first port must not be above the last" },
    ]);
  });

  it("rewrites zod's default messages in operator words", () => {
    const p = edit((p) => {
      (rule(p, "rule-guest") as { action: unknown }).action = { type: "snat", algorithm: "fastest" };
      (rule(p, "rule-lab-telia") as { protocol: unknown }).protocol = "gre";
      (rule(p, "rule-lab-cogent") as { source: unknown }).source = { kind: "everyone" };
      (isp(p, "isp-lte") as { monitor: unknown }).monitor = { intervalMs: "fast" };
    });
    const messages = validatePolicy(p).map((i) => i.message);
    expect(messages).toContain("SNAT pool is required");
    expect(messages).toContain("algorithm must be one of sh, sdh, sdph, random, rr");
    expect(messages).toContain("protocol must be one of any, tcp, udp, icmp");
    expect(messages).toContain("source type must be one of zone, cidrs");
    expect(messages).toContain("probe interval (ms) must be a number");
    expect(messages.join("\n")).not.toMatch(/Invalid|expected/);
  });

  it("checks the settings", () => {
    const issues = validatePolicy({ ...examplePolicy(), settings: { unmatched: "maybe", hashSeed: -1 } });
    expect(issues).toEqual([
      { entity: "settings", id: null, path: ["unmatched"], message: "unmatched traffic must be one of drop, forward" },
      { entity: "settings", id: null, path: ["hashSeed"], message: "hash seed must be at least 0" },
    ]);
  });

  it("lets an interface be only one of LAN, internal or an ISP's uplink", () => {
    const p = examplePolicy();
    const isp = p.isps.find((i) => i.interface === "eth1");
    const settings = {
      ...p.settings,
      lanInterfaces: ["lan0", "eth1", "lan0"],
      internalInterfaces: ["dmz0", "lan0"],
    };
    expect(validateEntity(p, "settings", settings)).toEqual([
      {
        entity: "settings",
        id: null,
        path: ["lanInterfaces", 1],
        message: `interface eth1 is ISP "${isp?.name}"'s uplink, so it cannot be LAN`,
      },
      { entity: "settings", id: null, path: ["lanInterfaces", 2], message: "interface lan0 is listed twice" },
      {
        entity: "settings",
        id: null,
        path: ["internalInterfaces", 1],
        message: "interface lan0 is a LAN interface already",
      },
    ]);
    expect(
      validateEntity(p, "settings", { ...p.settings, lanInterfaces: ["lan0"], internalInterfaces: ["dmz0"] }),
    ).toEqual([]);
  });

  it("does not report references to an entity that is present but broken as missing", () => {
    const p = edit((p) => {
      (pool(p, "pool-telia-main") as { addresses: unknown }).addresses = [];
    });
    const issues = validatePolicy(p);
    expect(issues).toEqual([
      { entity: "pool", id: "pool-telia-main", path: ["addresses"], message: "addresses needs at least one address" },
    ]);
  });

  it("reports duplicate ids and non-list collections", () => {
    const p = examplePolicy();
    const issues = validatePolicy({ ...p, zones: "none", pools: [...p.pools, p.pools[0]] });
    expect(issues).toContainEqual({ entity: "zone", id: null, path: [], message: "the zones must be a list" });
    expect(issues).toContainEqual({
      entity: "pool",
      id: "pool-telia-main",
      path: ["id"],
      message: 'id "pool-telia-main" is used by another pool too',
    });
  });
});

describe("validatePolicy: junk never throws", () => {
  it("handles any value as the whole policy", () => {
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        const issues = validatePolicy(junk);
        expect(Array.isArray(issues)).toBe(true);
        expect(issues.length).toBeGreaterThan(0);
        for (const i of issues) expect(typeof i.message).toBe("string");
      }),
      { numRuns: 300 },
    );
  });

  it("handles any value in place of an entity or a field and names the broken entity", () => {
    const kinds = ["isps", "pools", "zones", "rules"] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.nat(),
        fc.option(
          fc.constantFrom("id", "name", "addresses", "source", "action", "monitor", "destinations", "index", "seq"),
        ),
        fc.anything(),
        (key, n, field, junk) => {
          const p = examplePolicy() as unknown as Record<string, Array<Record<string, unknown>>>;
          const list = p[key] as Array<Record<string, unknown>>;
          const at = n % list.length;
          if (field === null) list[at] = junk as Record<string, unknown>;
          else (list[at] as Record<string, unknown>)[field] = junk;
          const issues = validatePolicy(p);
          expect(Array.isArray(issues)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("handles deep structural junk from fast-check's object generator", () => {
    fc.assert(
      fc.property(
        fc.record({
          settings: fc.anything(),
          isps: fc.array(fc.anything(), { maxLength: 4 }),
          pools: fc.array(fc.object(), { maxLength: 4 }),
          zones: fc.anything(),
          rules: fc.array(fc.object({ maxDepth: 3 }), { maxLength: 4 }),
        }),
        (junk) => {
          expect(validatePolicy(junk).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("validatePolicy: names and pools", () => {
  it("requires unique names per kind, ignoring case, and reports both", () => {
    const p = edit((p) => {
      (pool(p, "pool-lte") as { name: string }).name = "Telia-Main";
    });
    expect(validatePolicy(p)).toEqual([
      {
        entity: "pool",
        id: "pool-telia-main",
        path: ["name"],
        message: 'name "telia-main" is already used by another pool',
      },
      { entity: "pool", id: "pool-lte", path: ["name"], message: 'name "Telia-Main" is already used by another pool' },
    ]);
  });

  it("allows the same name for different kinds", () => {
    const p = edit((p) => {
      (p.zones[0] as { name: string }).name = "telia";
    });
    expect(validatePolicy(p)).toEqual([]);
  });

  it("reports an address shared by two pools on both, naming the other pool and the first shared address", () => {
    const p = edit((p) => {
      (pool(p, "pool-lte") as { addresses: string[] }).addresses = ["100.127.255.2", "198.51.100.12-198.51.100.20"];
    });
    expect(validatePolicy(p)).toEqual([
      {
        entity: "pool",
        id: "pool-lte",
        path: ["addresses", 1],
        message: 'address 198.51.100.12 is already in pool "telia-main"',
      },
      {
        entity: "pool",
        id: "pool-telia-main",
        path: ["addresses", 0],
        message: 'address 198.51.100.12 is already in pool "lte"',
      },
    ]);
  });

  it("finds overlaps between CIDRs and ranges inside one pool", () => {
    const p = edit((p) => {
      (pool(p, "pool-cogent-guest") as { addresses: string[] }).addresses = [
        "203.0.113.64/29",
        "203.0.113.70-203.0.113.72",
      ];
    });
    expect(validatePolicy(p)).toEqual([
      {
        entity: "pool",
        id: "pool-cogent-guest",
        path: ["addresses", 1],
        message: "address 203.0.113.70 is already in address item 1 of this pool",
      },
    ]);
  });

  it("limits a pool's size", () => {
    const p = edit((p) => {
      (pool(p, "pool-lte") as { addresses: string[] }).addresses = ["100.96.0.0/15", "100.127.255.2"];
    });
    expect(issuesOf(validatePolicy(p), "pool", "pool-lte")).toEqual([
      { path: ["addresses"], message: "addresses cover 131,073 addresses; a pool can have at most 65,536" },
    ]);
  });

  it("requires a pool's ISP to exist", () => {
    const p = edit((p) => {
      (pool(p, "pool-lte") as { ispId: string }).ispId = "isp-gone";
    });
    expect(issuesOf(validatePolicy(p), "pool", "pool-lte")).toEqual([
      { path: ["ispId"], message: 'ISP "isp-gone" does not exist' },
    ]);
  });
});

describe("validatePolicy: reserved pool addresses", () => {
  const withAddresses = (addresses: string[]) =>
    edit((p) => {
      pool(p, "pool-lte").addresses = addresses;
    });

  it.each([
    ["127.0.0.1", "address 127.0.0.1 is a loopback address; it cannot be a SNAT address"],
    [
      "0.0.0.0",
      'address 0.0.0.0 is in 0.0.0.0/8 ("this network", which holds the unspecified address 0.0.0.0); it cannot be a SNAT address',
    ],
    ["224.0.0.1", "address 224.0.0.1 is a multicast address; it cannot be a SNAT address"],
    ["255.255.255.255", "address 255.255.255.255 is a reserved or broadcast address; it cannot be a SNAT address"],
    ["169.254.10.1", "address 169.254.10.1 is a link-local address (169.254.0.0/16); it cannot be a SNAT address"],
  ])("refuses %s, naming the address item", (address, message) => {
    expect(issuesOf(validatePolicy(withAddresses(["100.66.0.1", address])), "pool", "pool-lte")).toEqual([
      { path: ["addresses", 1], message },
    ]);
  });

  it("refuses ranges and networks that contain a reserved address", () => {
    const issues = validatePolicy(
      withAddresses(["126.255.255.254-127.0.0.2", "223.255.254.0/30", "223.255.255.255-224.0.0.0"]),
    );
    expect(issuesOf(issues, "pool", "pool-lte")).toEqual([
      {
        path: ["addresses", 0],
        message:
          "address item 1 (126.255.255.254-127.0.0.2) includes 127.0.0.0, which is a loopback address; it cannot hold SNAT addresses",
      },
      {
        path: ["addresses", 2],
        message:
          "address item 3 (223.255.255.255-224.0.0.0) includes 224.0.0.0, which is a multicast address; it cannot hold SNAT addresses",
      },
    ]);
  });

  it("still accepts a next hop that is link-local", () => {
    const p = edit((p) => {
      (isp(p, "isp-lte") as { nextHop: string }).nextHop = "169.254.1.1";
    });
    expect(issuesOf(validatePolicy(p), "isp", "isp-lte")).toEqual([]);
  });
});

describe("validatePolicy: ISPs", () => {
  it("rejects shared next hops and indexes, on both ISPs", () => {
    const p = edit((p) => {
      const lte = isp(p, "isp-lte") as { interface: string; nextHop: string; index: number };
      lte.interface = "eth1";
      lte.nextHop = "203.0.113.1";
      lte.index = 2;
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "isp", "isp-lte")).toEqual([
      { path: ["index"], message: 'index 2 is already used by ISP "cogent"' },
      { path: ["nextHop"], message: 'next hop 203.0.113.1 is already used by ISP "cogent"' },
    ]);
    expect(issuesOf(issues, "isp", "isp-telia")).toEqual([]);
  });

  it("lets two static ISPs share an interface with distinct next hops and probe targets", () => {
    const p = edit((p) => {
      const lte = isp(p, "isp-lte") as { interface: string; probeTargets: string[] };
      lte.interface = "eth1";
      lte.probeTargets = ["203.0.113.53"];
    });
    expect(issuesOf(validatePolicy(p), "isp", "isp-lte")).toEqual([]);
  });

  it("refuses a DHCP or PPPoE ISP on a shared interface, and a probe target two ISPs on one interface share", () => {
    const p = edit((p) => {
      const lte = isp(p, "isp-lte") as { interface: string; addressing: string; probeTargets: string[] };
      lte.interface = "eth1";
      lte.addressing = "dhcp";
      lte.probeTargets = ["203.0.113.53"];
      (isp(p, "isp-telia") as { probeTargets: string[] }).probeTargets = ["203.0.113.53"];
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "isp", "isp-lte")).toEqual([
      {
        path: ["interface"],
        message:
          'interface eth1 is also ISP "telia"\'s uplink; a DHCP uplink needs an interface of its own (ISPs share one only with static next hops)',
      },
      {
        path: ["probeTargets", 0],
        message:
          'probe target 203.0.113.53 is also probed by ISP "telia" on the same interface eth1; each ISP on a shared interface needs its own probe targets',
      },
    ]);
    expect(issuesOf(issues, "isp", "isp-telia")).toEqual([
      {
        path: ["interface"],
        message: 'interface eth1 is ISP "lte-backup"\'s DHCP uplink, which needs the interface to itself',
      },
      {
        path: ["probeTargets", 0],
        message:
          'probe target 203.0.113.53 is also probed by ISP "lte-backup" on the same interface eth1; each ISP on a shared interface needs its own probe targets',
      },
    ]);
  });

  it("rejects next hops and probe targets that cannot be routers", () => {
    const p = edit((p) => {
      (isp(p, "isp-lte") as { nextHop: string }).nextHop = "127.0.0.1";
      (isp(p, "isp-cogent") as { nextHop: string }).nextHop = "224.0.0.5";
      (isp(p, "isp-telia") as { nextHop: string }).nextHop = "198.51.100.11";
      (isp(p, "isp-telia") as { probeTargets: string[] }).probeTargets = ["198.51.100.1", "0.0.0.0", "255.255.255.255"];
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "isp", "isp-lte")).toEqual([
      { path: ["nextHop"], message: "next hop 127.0.0.1 is a loopback address" },
    ]);
    expect(issuesOf(issues, "isp", "isp-cogent")).toEqual([
      { path: ["nextHop"], message: "next hop 224.0.0.5 is a multicast address" },
    ]);
    expect(issuesOf(issues, "isp", "isp-telia")).toEqual([
      { path: ["nextHop"], message: 'next hop 198.51.100.11 is also a SNAT address of pool "telia-main"' },
      {
        path: ["probeTargets", 1],
        message: 'probe target 0.0.0.0 is in 0.0.0.0/8 ("this network", which holds the unspecified address 0.0.0.0)',
      },
      { path: ["probeTargets", 2], message: "probe target 255.255.255.255 is a reserved or broadcast address" },
    ]);
  });

  it("refuses the loopback interface as an uplink", () => {
    for (const name of ["lo", "lo0"]) {
      const p = edit((p) => {
        (isp(p, "isp-lte") as { interface: string }).interface = name;
      });
      expect(issuesOf(validatePolicy(p), "isp", "isp-lte")).toEqual([
        {
          path: ["interface"],
          message: `interface ${name} is the loopback interface; an uplink must be an interface that leaves the gateway`,
        },
      ]);
    }
    const ok = edit((p) => {
      (isp(p, "isp-lte") as { interface: string }).interface = "lte0";
    });
    expect(issuesOf(validatePolicy(ok), "isp", "isp-lte")).toEqual([]);
  });

  it("checks the backup plan", () => {
    const p = edit((p) => {
      (isp(p, "isp-telia") as { backupIspIds: string[] }).backupIspIds = [
        "isp-cogent",
        "isp-telia",
        "isp-x",
        "isp-cogent",
      ];
    });
    expect(issuesOf(validatePolicy(p), "isp", "isp-telia")).toEqual([
      { path: ["backupIspIds", 1], message: "an ISP cannot be its own backup" },
      { path: ["backupIspIds", 2], message: 'backup ISP "isp-x" does not exist' },
      { path: ["backupIspIds", 3], message: 'backup ISP "cogent" is listed twice' },
    ]);
  });

  it("requires the default pool to exist and belong to the ISP", () => {
    const p = edit((p) => {
      (isp(p, "isp-telia") as { defaultPoolId: string }).defaultPoolId = "pool-cogent-main";
      (isp(p, "isp-lte") as { defaultPoolId: string }).defaultPoolId = "pool-nope";
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "isp", "isp-telia")).toEqual([
      { path: ["defaultPoolId"], message: 'default pool "cogent-main" belongs to ISP "cogent", not to this ISP' },
    ]);
    expect(issuesOf(issues, "isp", "isp-lte")).toEqual([
      { path: ["defaultPoolId"], message: 'default pool "pool-nope" does not exist' },
    ]);
  });

  it("allows at most 250 ISPs", () => {
    const p = examplePolicy();
    const extra = Array.from({ length: 250 }, (_, i) => ({
      ...(p.isps[2] as Isp),
      id: `isp-extra-${i}`,
      index: 4 + i,
      name: `extra-${i}`,
      interface: `vlan${i}`,
      nextHop: `100.100.${i}.1`,
      defaultPoolId: null,
    }));
    const issues = validatePolicy({ ...p, isps: [...p.isps, ...extra] });
    const tooMany = issues.filter((i) => i.message === "a cluster can have at most 250 ISPs");
    expect(tooMany.map((i) => i.id)).toEqual(["isp-extra-247", "isp-extra-248", "isp-extra-249"]);
    expect(issuesOf(issues, "isp", "isp-extra-249")).toContainEqual({
      path: ["index"],
      message: "index must be at most 250",
    });
  });
});

describe("validatePolicy: on-link pools", () => {
  const onLink = (p: Policy, addresses: string[], localAddress: string | null = "198.51.100.2/24") => {
    (isp(p, "isp-telia") as { localAddress: string | null }).localAddress = localAddress;
    Object.assign(pool(p, "pool-telia-main"), { mode: "on-link", addresses });
  };

  it("accepts an on-link pool inside its ISP's link subnet", () => {
    expect(validatePolicy(edit((p) => onLink(p, ["198.51.100.10-198.51.100.17"])))).toEqual([]);
  });

  it("refuses on-link addresses outside the link's subnet, naming the subnet", () => {
    const issues = validatePolicy(edit((p) => onLink(p, ["198.51.100.10-198.51.100.17"], "198.51.100.2/29")));
    expect(issuesOf(issues, "pool", "pool-telia-main")).toEqual([
      {
        path: ["addresses", 0],
        message:
          'range 198.51.100.10-198.51.100.17 is not inside 198.51.100.0/29, the subnet of ISP "telia"\'s link: an on-link pool must be (use a routed pool for addresses the ISP routes to the gateway)',
      },
    ]);
  });

  it("refuses a pool address equal to the gateway's own address on the link, and the subnet's network and broadcast", () => {
    const issues = validatePolicy(edit((p) => onLink(p, ["198.51.100.2", "198.51.100.255", "198.51.100.0/31"])));
    expect(issuesOf(issues, "pool", "pool-telia-main")).toEqual([
      { path: ["addresses", 0], message: "198.51.100.2 is the gateway's own address on ISP \"telia\"'s link" },
      { path: ["addresses", 1], message: "198.51.100.255 is the broadcast address of 198.51.100.0/24" },
      { path: ["addresses", 2], message: "198.51.100.0 is the network address of 198.51.100.0/24" },
    ]);
  });

  it("needs the ISP's link address for an on-link pool; routed pools need none", () => {
    const issues = validatePolicy(edit((p) => onLink(p, ["198.51.100.10"], null)));
    expect(issuesOf(issues, "pool", "pool-telia-main")).toEqual([
      {
        path: ["mode"],
        message:
          'an on-link pool needs the link address of ISP "telia" (such as 198.51.100.2/24) to check its addresses are on the link',
      },
    ]);
    const routed = edit((p) => onLink(p, ["203.0.113.200"], "198.51.100.2/24"));
    (pool(routed, "pool-telia-main") as { mode: string }).mode = "routed";
    expect(validatePolicy(routed)).toEqual([]);
  });

  it("checks the link address itself: a host of its subnet, with the next hop inside", () => {
    const outside = validatePolicy(edit((p) => onLink(p, ["198.51.100.10"], "198.51.100.130/25")));
    expect(issuesOf(outside, "isp", "isp-telia")).toContainEqual({
      path: ["localAddress"],
      message: "next hop 198.51.100.1 is outside the link's subnet 198.51.100.128/25",
    });
    const network = validatePolicy(edit((p) => onLink(p, ["198.51.100.10"], "198.51.100.0/24")));
    expect(issuesOf(network, "isp", "isp-telia")).toContainEqual({
      path: ["localAddress"],
      message: "link address 198.51.100.0/24 is the network address of its subnet",
    });
    const bad = validatePolicy(edit((p) => onLink(p, ["198.51.100.10"], "198.51.100.2")));
    expect(issuesOf(bad, "isp", "isp-telia")[0]?.message).toMatch(/^link address must be an address with its prefix/);
  });
});

describe("validatePolicy: rules and zones", () => {
  it("requires every reference to exist", () => {
    const p = edit((p) => {
      Object.assign(rule(p, "rule-office-telia"), {
        source: { kind: "zone", zoneId: "zone-gone" },
        egressIspId: "isp-gone",
        action: { type: "snat", poolId: "pool-gone", algorithm: "sh" },
        redirectIspId: "isp-gone2",
        fallbackPoolId: "pool-gone2",
      });
    });
    expect(issuesOf(validatePolicy(p), "rule", "rule-office-telia")).toEqual([
      { path: ["source", "zoneId"], message: 'zone "zone-gone" does not exist' },
      { path: ["egressIspId"], message: 'egress ISP "isp-gone" does not exist' },
      { path: ["action", "poolId"], message: 'SNAT pool "pool-gone" does not exist' },
      { path: ["redirectIspId"], message: 'redirect ISP "isp-gone2" does not exist' },
      { path: ["fallbackPoolId"], message: 'fallback pool "pool-gone2" does not exist' },
    ]);
  });

  it("rejects a redirect to the egress ISP, a fallback equal to the pool, and options the action ignores", () => {
    const p = edit((p) => {
      Object.assign(rule(p, "rule-office-telia"), { redirectIspId: "isp-telia", fallbackPoolId: "pool-telia-main" });
      Object.assign(rule(p, "rule-partner"), { fallbackPoolId: "pool-cogent-main" });
      Object.assign(rule(p, "rule-lab-dns"), { redirectIspId: "isp-cogent" });
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "rule", "rule-office-telia")).toEqual([
      {
        path: ["redirectIspId"],
        message: 'redirect ISP "telia" is the rule\'s egress ISP: a redirect must send traffic through another ISP',
      },
      {
        path: ["fallbackPoolId"],
        message: 'fallback pool "telia-main" is the rule\'s own pool: pick a pool of a backup ISP',
      },
    ]);
    expect(issuesOf(issues, "rule", "rule-partner")).toEqual([
      { path: ["fallbackPoolId"], message: "a fallback pool applies only to SNAT rules" },
    ]);
    expect(issuesOf(issues, "rule", "rule-lab-dns")).toEqual([
      { path: ["redirectIspId"], message: "a redirect has no effect on a rule that drops" },
    ]);
  });

  it("rejects networks listed twice (also when written differently) and repeated creation order", () => {
    const p = edit((p) => {
      Object.assign(rule(p, "rule-old-vpn"), {
        source: { kind: "cidrs", cidrs: ["100.64.30.0/24", "100.64.31.5", "100.64.31.5/32"] },
        destinations: ["203.0.113.0/24", "203.0.113.0/24"],
        seq: 1,
      });
      (p.zones[0] as { networks: string[] }).networks = ["100.64.1.0/24", "100.64.2.0/24", "100.64.1.0/24"];
    });
    const issues = validatePolicy(p);
    expect(issuesOf(issues, "rule", "rule-old-vpn")).toEqual([
      { path: ["source", "cidrs", 2], message: "network 100.64.31.5/32 is listed twice (also item 2)" },
      { path: ["destinations", 1], message: "network 203.0.113.0/24 is listed twice (also item 1)" },
      { path: ["seq"], message: "creation order 1 is used by another rule too" },
    ]);
    expect(issuesOf(issues, "rule", "rule-office-telia")).toEqual([
      { path: ["seq"], message: "creation order 1 is used by another rule too" },
    ]);
    expect(issuesOf(issues, "zone", "zone-office")).toEqual([
      { path: ["networks", 2], message: "network 100.64.1.0/24 is listed twice (also item 1)" },
    ]);
  });

  it("limits how many entries the enabled rules expand into", () => {
    const p = examplePolicy();
    const zone = {
      id: "zone-big",
      name: "big",
      comment: "",
      networks: Array.from({ length: 256 }, (_, i) => `100.65.${i}.0/24`),
    };
    const destinations = Array.from({ length: 64 }, (_, i) => `203.0.113.${i}/32`);
    const rules = Array.from({ length: 7 }, (_, i) => ({
      ...(p.rules[5] as Rule),
      id: `big-${i}`,
      seq: 100 + i,
      source: { kind: "zone" as const, zoneId: "zone-big" },
      destinations,
    }));
    const issues = validatePolicy({ ...p, zones: [...p.zones, zone], rules: [...p.rules, ...rules] });
    // 7 rules x 256 networks x 64 destinations, plus the example's own 14 entries
    expect(issues).toEqual([
      {
        entity: "rule",
        id: null,
        path: [],
        message: `the enabled rules expand into 114,702 entries (source networks × destinations); a cluster can have at most ${MAX_ENTRIES.toLocaleString("en-US")}`,
      },
    ]);
  });

  it("is fast enough to run on every edit of a 10,000-rule draft", () => {
    const p = generatePolicy({ rules: 10_000 });
    const t = performance.now();
    expect(validatePolicy(p)).toEqual([]);
    expect(performance.now() - t).toBeLessThan(10_000);
  });
});

describe("validateEntity", () => {
  it("returns only the issues of the given entity, with the rest of the policy in view", () => {
    const p = edit((p) => {
      (isp(p, "isp-lte") as { nextHop: string }).nextHop = "127.0.0.1";
    });
    const candidate = { ...pool(p, "pool-lte"), addresses: ["198.51.100.17-198.51.100.18"] };
    expect(validateEntity(p, "pool", candidate)).toEqual([
      {
        entity: "pool",
        id: "pool-lte",
        path: ["addresses", 0],
        message: 'address 198.51.100.17 is already in pool "telia-main"',
      },
    ]);
  });

  it("checks a new entity without id, creation order or index, reporting id null", () => {
    const p = examplePolicy();
    const fields = { ...zPolicy.shape.rules.element.omit({ id: true, seq: true }).parse(p.rules[0]) };
    expect(validateEntity(p, "rule", fields)).toEqual([]);
    expect(validateEntity(p, "rule", { ...fields, egressIspId: "isp-x" })).toEqual([
      { entity: "rule", id: null, path: ["egressIspId"], message: 'egress ISP "isp-x" does not exist' },
    ]);
    const newIsp = { ...(p.isps[2] as Isp), id: undefined, index: undefined, name: "telia" };
    expect(validateEntity(p, "isp", newIsp)).toEqual([
      { entity: "isp", id: null, path: ["name"], message: 'name "telia" is already used by another ISP' },
      {
        entity: "isp",
        id: null,
        path: ["nextHop"],
        message: 'next hop 100.127.255.1 is already used by ISP "lte-backup"',
      },
      {
        entity: "isp",
        id: null,
        path: ["defaultPoolId"],
        message: 'default pool "lte" belongs to ISP "lte-backup", not to this ISP',
      },
    ]);
  });

  it("validates settings and rejects non-objects", () => {
    const p = examplePolicy();
    expect(validateEntity(p, "settings", { unmatched: "forward", hashSeed: 1 })).toEqual([]);
    expect(validateEntity(p, "settings", { unmatched: "forward" })).toEqual([
      { entity: "settings", id: null, path: ["hashSeed"], message: "hash seed is required" },
    ]);
    expect(validateEntity(p, "zone", "zone")).toEqual([
      { entity: "zone", id: null, path: [], message: "a zone must be a set of fields" },
    ]);
  });
});

describe("dependentsOf", () => {
  it("lists what uses a pool", () => {
    const deps = dependentsOf(examplePolicy(), "pool", "pool-telia-servers");
    expect(deps.map((d) => [d.entity, d.id, d.path, d.message])).toEqual([
      ["rule", "rule-servers-telia", ["action", "poolId"], "rule #5 translates to its addresses"],
      [
        "rule",
        "rule-servers-cogent",
        ["fallbackPoolId"],
        'rule #6 "servers keep their Telia addresses if C…" uses it as its fallback pool',
      ],
    ]);
    expect(dependentsOf(examplePolicy(), "pool", "pool-lte").map((d) => d.message)).toEqual([
      'ISP "lte-backup" uses it as its default pool',
      "rule #10 translates to its addresses",
    ]);
  });

  it("lists what uses an ISP: its pools, ISPs it backs up, rules", () => {
    const deps = dependentsOf(examplePolicy(), "isp", "isp-cogent");
    expect(deps.map((d) => d.message)).toEqual([
      'pool "cogent-main" belongs to it',
      'pool "cogent-guest" belongs to it',
      'ISP "telia" uses it as a backup',
      'rule #4 "office via Cogent" matches traffic leaving through it',
      'rule #6 "servers keep their Telia addresses if C…" matches traffic leaving through it',
      'rule #11 "guests always leave via Cogent" redirects traffic to it',
      "rule #8 matches traffic leaving through it",
    ]);
  });

  it("lists rules using a zone, and nothing for rules or unknown ids", () => {
    const p = examplePolicy();
    expect(dependentsOf(p, "zone", "zone-lab").map((d) => d.id)).toEqual([
      "rule-lab-dns",
      "rule-lab-telia",
      "rule-lab-cogent",
    ]);
    expect(dependentsOf(p, "rule", "rule-lab-dns")).toEqual([]);
    expect(dependentsOf(p, "zone", "nope")).toEqual([]);
  });

  it("agrees with validation: deleting a thing with dependents breaks exactly those", () => {
    const p = examplePolicy();
    for (const kind of ["isp", "pool", "zone"] as const) {
      const key = ({ isp: "isps", pool: "pools", zone: "zones" } as const)[kind];
      for (const e of p[key]) {
        const without = { ...p, [key]: (p[key] as Array<{ id: string }>).filter((x) => x.id !== e.id) };
        const broken = new Set(validatePolicy(without).map((i) => `${i.entity}:${i.id}`));
        const deps = new Set(dependentsOf(p, kind, e.id).map((d) => `${d.entity}:${d.id}`));
        expect(broken).toEqual(deps);
      }
    }
  });
});

describe("labels", () => {
  it("names fields in operator words", () => {
    expect(fieldLabel("pool", ["addresses", 2])).toBe("address item 3");
    expect(fieldLabel("isp", ["monitor", "holdDownMs"])).toBe("hold-down time (ms)");
    expect(fieldLabel("rule", ["action", "poolId"])).toBe("SNAT pool");
    expect(fieldLabel("rule", ["strange", 0])).toBe("strange [1]");
  });

  it("describes an issue with the entity it belongs to", () => {
    const p = examplePolicy();
    expect(
      describeIssue(p, { entity: "rule", id: "rule-guest", path: ["redirectIspId"], message: "redirect ISP is odd" }),
    ).toBe('rule #11 "guests always leave via Cogent": redirect ISP is odd');
    expect(describeIssue(p, { entity: "pool", id: "pool-lte", path: [], message: "x" })).toBe('pool "lte": x');
  });
});

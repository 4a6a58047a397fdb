import type { z } from "zod";
import {
  type Isp,
  MAX_ISPS,
  MAX_POOL_ADDRESSES,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  type ClusterSettings,
  zClusterSettings,
  zIsp,
  zPool,
  zRule,
  zZone,
} from "./model";
import { type Interval, intervalSize, ipv4ToBigInt, parseAddressRange, parseCidr, reservedAddressIn } from "../address";
import { describeEntity, ENTITY_NOUN, type EntityKind, LIST_KEY, type PolicyEntity, type PolicyPart } from "./entities";
import { fieldLabel, joinLabel, plainZodMessage } from "./wording";
import { type ValidationContext, validateHa } from "./validate-ha";

export type { ValidationContext } from "./validate-ha";

/**
 * Checks a whole policy: each entity against its schema, then everything that involves more than
 * one entity (unique names, one pool per address, references). Issues are attached to the entity
 * that has to change and name the other things involved, so an operator can fix them without
 * looking anything up. The same policy always gives the same issues with the same messages.
 */

export interface PolicyIssue {
  entity: PolicyPart;
  id: string | null;
  /** field path inside the entity, e.g. ["addresses", 2] */
  path: (string | number)[];
  message: string;
}

const SCHEMAS = { isp: zIsp, pool: zPool, zone: zZone, rule: zRule } as const;

/** Above this many entries (sources x destinations of every enabled rule) a spec is too big to ship. */
export const MAX_ENTRIES = 100_000;

export const fmt = (n: number | bigint) => n.toLocaleString("en-US");

// ---------------------------------------------------------------------------------------------
// zod issues in operator words

export function zodIssues(
  entity: PolicyPart,
  id: string | null,
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
): PolicyIssue[] {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== "symbol")];
    return { entity, id, path, message: joinLabel(fieldLabel(entity, path), plainZodMessage(issue)) };
  });
}

// ---------------------------------------------------------------------------------------------
// address sanity

/** Why an address cannot be a router (a next hop, a probe target), or null. */
function unusableAddress(ip: string): string | null {
  const v = ipv4ToBigInt(ip);
  return reservedAddressIn({ family: 4, start: v, end: v }, { linkLocal: false })?.says ?? null;
}

/** Linux's loopback device (and the names other systems give theirs): never an uplink. */
const LOOPBACK_INTERFACE = /^lo[0-9]*$/;

// ---------------------------------------------------------------------------------------------
// the checks

interface Parsed {
  /** null when the settings do not parse (their issues are reported already) */
  settings: ClusterSettings | null;
  isps: Isp[];
  pools: Pool[];
  zones: Zone[];
  rules: Rule[];
  /** every id present in the input, parsed or not, so a broken entity is not also reported as missing */
  known: Record<EntityKind, Set<string>>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

class Issues {
  readonly list: PolicyIssue[] = [];
  private readonly seen = new Set<string>();
  add(entity: PolicyPart, id: string | null, path: (string | number)[], message: string) {
    const key = `${entity}\u0000${id}\u0000${path.join("\u0001")}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ entity, id, path, message });
  }
}

function parseAll(input: unknown, out: Issues): Parsed {
  const root = isRecord(input) ? input : {};
  if (!isRecord(input)) {
    out.add("settings", null, [], "the policy must be a set of fields: settings, isps, pools, zones and rules");
  }
  const settings = zClusterSettings.safeParse(root.settings);
  if (!settings.success) for (const i of zodIssues("settings", null, settings.error.issues)) out.list.push(i);

  const parsed: Parsed = {
    settings: settings.success ? settings.data : null,
    isps: [],
    pools: [],
    zones: [],
    rules: [],
    known: { isp: new Set(), pool: new Set(), zone: new Set(), rule: new Set() },
  };
  for (const kind of ["isp", "pool", "zone", "rule"] as const) {
    const raw = root[LIST_KEY[kind]];
    if (raw === undefined && !isRecord(input)) continue;
    if (!Array.isArray(raw)) {
      out.add(kind, null, [], `the ${kind === "isp" ? "ISPs" : LIST_KEY[kind]} must be a list`);
      continue;
    }
    const seenIds = new Set<string>();
    for (const [at, item] of (raw as unknown[]).entries()) {
      const rawId = isRecord(item) && typeof item.id === "string" ? item.id : null;
      if (kind === "isp" && at >= MAX_ISPS) out.add("isp", rawId, [], `a cluster can have at most ${MAX_ISPS} ISPs`);
      if (rawId !== null) {
        if (seenIds.has(rawId)) {
          out.add(kind, rawId, ["id"], `id "${rawId}" is used by another ${ENTITY_NOUN[kind]} too`);
          continue;
        }
        seenIds.add(rawId);
        parsed.known[kind].add(rawId);
      }
      const r = SCHEMAS[kind].safeParse(item);
      if (!r.success) {
        for (const i of zodIssues(kind, rawId, r.error.issues)) out.add(i.entity, i.id, i.path, i.message);
        continue;
      }
      (parsed[LIST_KEY[kind]] as PolicyEntity[]).push(r.data);
    }
  }
  return parsed;
}

const normName = (s: string) => s.trim().toLowerCase();

function checkUniqueNames(kind: "isp" | "pool" | "zone", items: Array<Isp | Pool | Zone>, out: Issues) {
  const byName = new Map<string, Array<Isp | Pool | Zone>>();
  for (const e of items) {
    const k = normName(e.name);
    byName.set(k, [...(byName.get(k) ?? []), e]);
  }
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    for (const e of group) {
      out.add(kind, e.id, ["name"], `name "${e.name}" is already used by another ${ENTITY_NOUN[kind]}`);
    }
  }
}

interface PoolItem {
  pool: Pool;
  item: number;
  range: Interval;
}

function checkPools(p: Parsed, out: Issues): PoolItem[] {
  const items: PoolItem[] = [];
  for (const pool of p.pools) {
    if (!p.known.isp.has(pool.ispId)) out.add("pool", pool.id, ["ispId"], `ISP "${pool.ispId}" does not exist`);
    let size = 0n;
    pool.addresses.forEach((text, item) => {
      const r = parseAddressRange(text);
      if (!r.ok) return;
      const reserved = reservedAddressIn(r.value, { linkLocal: true });
      if (reserved !== null) {
        const single = r.value.start === r.value.end;
        out.add(
          "pool",
          pool.id,
          ["addresses", item],
          single
            ? `address ${reserved.address} ${reserved.says}; it cannot be a SNAT address`
            : `address item ${item + 1} (${text.trim()}) includes ${reserved.address}, which ${reserved.says}; it cannot hold SNAT addresses`,
        );
      }
      size += intervalSize(r.value);
      items.push({ pool, item, range: r.value });
    });
    if (size > BigInt(MAX_POOL_ADDRESSES)) {
      out.add(
        "pool",
        pool.id,
        ["addresses"],
        `addresses cover ${fmt(size)} addresses; a pool can have at most ${fmt(MAX_POOL_ADDRESSES)}`,
      );
    }
  }
  // sweep by start: an item overlaps an earlier one exactly when it starts before the furthest end so far
  const sorted = [...items].sort((a, b) =>
    a.range.start !== b.range.start ? (a.range.start < b.range.start ? -1 : 1) : a.range.end < b.range.end ? 1 : -1,
  );
  let reach: PoolItem | null = null;
  for (const cur of sorted) {
    if (reach !== null && cur.range.start <= reach.range.end) {
      const shared = bigIntText(cur.range.start);
      if (reach.pool.id === cur.pool.id) {
        const [first, second] = reach.item < cur.item ? [reach, cur] : [cur, reach];
        out.add(
          "pool",
          cur.pool.id,
          ["addresses", second.item],
          `address ${shared} is already in address item ${first.item + 1} of this pool`,
        );
      } else {
        out.add(
          "pool",
          cur.pool.id,
          ["addresses", cur.item],
          `address ${shared} is already in pool "${reach.pool.name}"`,
        );
        out.add(
          "pool",
          reach.pool.id,
          ["addresses", reach.item],
          `address ${shared} is already in pool "${cur.pool.name}"`,
        );
      }
    }
    if (reach === null || cur.range.end > reach.range.end) reach = cur;
  }
  return items;
}

function bigIntText(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
}

function checkIsps(p: Parsed, poolsById: Map<string, Pool>, poolItems: PoolItem[], out: Issues) {
  const byIndex = new Map<number, Isp[]>();
  const byInterface = new Map<string, Isp[]>();
  const byNextHop = new Map<string, Isp[]>();
  const push = <K>(m: Map<K, Isp[]>, k: K, v: Isp) => m.set(k, [...(m.get(k) ?? []), v]);
  p.isps.forEach((isp) => {
    push(byIndex, isp.index, isp);
    push(byInterface, isp.interface, isp);
    push(byNextHop, isp.nextHop, isp);
  });
  const clash = <K>(m: Map<K, Isp[]>, field: string, say: (k: K, other: Isp) => string) => {
    for (const [k, group] of m) {
      if (group.length < 2) continue;
      for (const isp of group) {
        const other = group.find((g) => g !== isp);
        if (other) out.add("isp", isp.id, [field], say(k, other));
      }
    }
  };
  clash(byIndex, "index", (k, o) => `index ${k} is already used by ISP "${o.name}"`);
  clash(byNextHop, "nextHop", (k, o) => `next hop ${k} is already used by ISP "${o.name}"`);
  checkSharedInterfaces(byInterface, out);

  for (const isp of p.isps) {
    if (LOOPBACK_INTERFACE.test(isp.interface)) {
      out.add(
        "isp",
        isp.id,
        ["interface"],
        `interface ${isp.interface} is the loopback interface; an uplink must be an interface that leaves the gateway`,
      );
    }
    const bad = unusableAddress(isp.nextHop);
    if (bad) out.add("isp", isp.id, ["nextHop"], `next hop ${isp.nextHop} ${bad}`);
    const nh = ipv4ToBigInt(isp.nextHop);
    const inPool = poolItems.find((it) => it.range.start <= nh && nh <= it.range.end);
    if (inPool) {
      out.add(
        "isp",
        isp.id,
        ["nextHop"],
        `next hop ${isp.nextHop} is also a SNAT address of pool "${inPool.pool.name}"`,
      );
    }
    isp.probeTargets.forEach((t, i) => {
      const why = unusableAddress(t);
      if (why) out.add("isp", isp.id, ["probeTargets", i], `probe target ${t} ${why}`);
    });
    const seen = new Set<string>();
    isp.backupIspIds.forEach((b, i) => {
      const path = ["backupIspIds", i];
      if (b === isp.id) out.add("isp", isp.id, path, "an ISP cannot be its own backup");
      else if (!p.known.isp.has(b)) out.add("isp", isp.id, path, `backup ISP "${b}" does not exist`);
      else if (seen.has(b)) {
        const name = p.isps.find((x) => x.id === b)?.name ?? b;
        out.add("isp", isp.id, path, `backup ISP "${name}" is listed twice`);
      }
      seen.add(b);
    });
    if (isp.defaultPoolId !== null) {
      const pool = poolsById.get(isp.defaultPoolId);
      if (!p.known.pool.has(isp.defaultPoolId)) {
        out.add("isp", isp.id, ["defaultPoolId"], `default pool "${isp.defaultPoolId}" does not exist`);
      } else if (pool && pool.ispId !== isp.id) {
        const owner = p.isps.find((x) => x.id === pool.ispId);
        out.add(
          "isp",
          isp.id,
          ["defaultPoolId"],
          `default pool "${pool.name}" belongs to ${owner ? `ISP "${owner.name}"` : "another ISP"}, not to this ISP`,
        );
      }
    }
  }
}

/**
 * Several ISPs on one interface (one uplink to an exchange with two upstream routers) are told
 * apart by their next hop (distinct, checked above). A DHCP or PPPoE uplink has its interface to
 * itself: its next hop is whatever the client learns, which could be another ISP's. Probe targets
 * beyond the next hop are routed per target on a shared interface, so two of its ISPs cannot
 * probe the same one.
 */
function checkSharedInterfaces(byInterface: Map<string, Isp[]>, out: Issues) {
  for (const [name, group] of byInterface) {
    if (group.length < 2) continue;
    for (const isp of group) {
      const other = group.find((g) => g !== isp) as Isp;
      const dynamic = group.find((g) => g !== isp && g.addressing !== "static");
      if (isp.addressing === "static" && dynamic) {
        out.add(
          "isp",
          isp.id,
          ["interface"],
          `interface ${name} is ISP "${dynamic.name}"'s ${dynamic.addressing === "dhcp" ? "DHCP" : "PPPoE"} uplink, which needs the interface to itself`,
        );
      }
      if (isp.addressing !== "static") {
        out.add(
          "isp",
          isp.id,
          ["interface"],
          `interface ${name} is also ISP "${other.name}"'s uplink; a ${isp.addressing === "dhcp" ? "DHCP" : "PPPoE"} uplink needs an interface of its own (ISPs share one only with static next hops)`,
        );
      }
      isp.probeTargets.forEach((t, i) => {
        if (t === isp.nextHop) return;
        const prober = group.find((g) => g !== isp && g.probeTargets.includes(t));
        if (prober) {
          out.add(
            "isp",
            isp.id,
            ["probeTargets", i],
            `probe target ${t} is also probed by ISP "${prober.name}" on the same interface ${name}; each ISP on a shared interface needs its own probe targets`,
          );
        }
      });
    }
  }
}

/** The subnet and the host of an interface address such as 198.51.100.2/24. */
export function linkSubnet(localAddress: string): { address: bigint; subnet: Interval; prefix: number } | null {
  const [addr, len] = localAddress.split("/");
  const prefix = Number(len);
  if (addr === undefined || !Number.isInteger(prefix) || prefix < 1 || prefix > 32) return null;
  const address = ipv4ToBigInt(addr);
  const size = 1n << BigInt(32 - prefix);
  const start = address - (address % size);
  return { address, prefix, subnet: { family: 4, start, end: start + size - 1n } };
}

/**
 * The link address of an ISP must be usable on its subnet, and its next hop inside that subnet
 * (the kernel reaches a next hop on the link). On-link pools must be in the subnet of their ISP's
 * link, and none of their addresses may be the gateway's own, the next hop's, or the subnet's
 * network or broadcast address: the ISP router finds on-link addresses by ARP on that subnet only.
 */
function checkOnLink(p: Parsed, poolItems: PoolItem[], out: Issues) {
  const links = new Map<string, NonNullable<ReturnType<typeof linkSubnet>>>();
  for (const isp of p.isps) {
    if (isp.localAddress === null) continue;
    const link = linkSubnet(isp.localAddress);
    if (link === null) continue;
    links.set(isp.id, link);
    const { address, subnet, prefix } = link;
    if (prefix <= 30 && (address === subnet.start || address === subnet.end)) {
      out.add(
        "isp",
        isp.id,
        ["localAddress"],
        `link address ${isp.localAddress} is the ${address === subnet.start ? "network" : "broadcast"} address of its subnet`,
      );
    }
    const nh = ipv4ToBigInt(isp.nextHop);
    if (nh === address) {
      out.add("isp", isp.id, ["localAddress"], `link address ${isp.localAddress} is the next hop's address`);
    } else if (nh < subnet.start || nh > subnet.end) {
      out.add(
        "isp",
        isp.id,
        ["localAddress"],
        `next hop ${isp.nextHop} is outside the link's subnet ${bigIntText(subnet.start)}/${prefix}`,
      );
    }
  }
  for (const it of poolItems) {
    if (it.pool.mode !== "on-link") continue;
    const isp = p.isps.find((x) => x.id === it.pool.ispId);
    if (isp === undefined) continue;
    const path = ["addresses", it.item];
    const link = links.get(isp.id);
    if (link === undefined) {
      // once per pool is enough
      if (poolItems.find((x) => x.pool === it.pool) === it) {
        out.add(
          "pool",
          it.pool.id,
          ["mode"],
          `an on-link pool needs the link address of ISP "${isp.name}" (such as 198.51.100.2/24) to check its addresses are on the link`,
        );
      }
      continue;
    }
    const net = `${bigIntText(link.subnet.start)}/${link.prefix}`;
    if (it.range.start < link.subnet.start || it.range.end > link.subnet.end) {
      out.add(
        "pool",
        it.pool.id,
        path,
        `${pool(it)} is not inside ${net}, the subnet of ISP "${isp.name}"'s link: an on-link pool must be (use a routed pool for addresses the ISP routes to the gateway)`,
      );
      continue;
    }
    const clash = (v: bigint, what: string) => {
      if (it.range.start <= v && v <= it.range.end) out.add("pool", it.pool.id, path, `${bigIntText(v)} is ${what}`);
    };
    clash(link.address, `the gateway's own address on ISP "${isp.name}"'s link`);
    if (link.prefix <= 30) {
      clash(link.subnet.start, `the network address of ${net}`);
      clash(link.subnet.end, `the broadcast address of ${net}`);
    }
  }
}

const pool = (it: PoolItem) =>
  it.range.start === it.range.end
    ? `address ${bigIntText(it.range.start)}`
    : `range ${bigIntText(it.range.start)}-${bigIntText(it.range.end)}`;

function duplicateNetworks(
  kind: EntityKind,
  id: string,
  field: (string | number)[],
  texts: readonly string[],
  out: Issues,
) {
  const seen = new Map<string, number>();
  texts.forEach((t, i) => {
    const r = parseCidr(t);
    if (!r.ok) return;
    const first = seen.get(r.value.text);
    if (first !== undefined) {
      out.add(kind, id, [...field, i], `network ${r.value.text} is listed twice (also item ${first + 1})`);
    } else seen.set(r.value.text, i);
  });
}

/**
 * The guard's interface lists: an interface is a LAN's, an internal network's or an ISP's, never
 * two of these, or the guard could not say whether LAN traffic leaving by it needs NAT.
 */
function checkGuardInterfaces(p: Parsed, out: Issues) {
  if (p.settings === null) return;
  const ispByInterface = new Map(p.isps.map((isp) => [isp.interface, isp]));
  const lan = new Set<string>();
  for (const [list, word] of [
    ["lanInterfaces", "LAN"],
    ["internalInterfaces", "internal"],
  ] as const) {
    const seen = new Set<string>();
    for (const [at, name] of p.settings[list].entries()) {
      const isp = ispByInterface.get(name);
      if (seen.has(name)) out.add("settings", null, [list, at], `interface ${name} is listed twice`);
      else if (isp) {
        out.add(
          "settings",
          null,
          [list, at],
          `interface ${name} is ISP "${isp.name}"'s uplink, so it cannot be ${word}`,
        );
      } else if (list === "internalInterfaces" && lan.has(name)) {
        out.add("settings", null, [list, at], `interface ${name} is a LAN interface already`);
      }
      seen.add(name);
      if (list === "lanInterfaces") lan.add(name);
    }
  }
}

function checkZones(p: Parsed, out: Issues) {
  for (const zone of p.zones) duplicateNetworks("zone", zone.id, ["networks"], zone.networks, out);
}

/** A rule's own failover behaviour (core/spec/failover-route.ts): what it names must be usable. */
function checkRuleFailover(
  rule: Rule,
  action: Rule["action"],
  p: Parsed,
  isps: Map<string, Isp>,
  pools: Map<string, Pool>,
  add: (path: (string | number)[], message: string) => void,
) {
  const ispName = (id: string) => isps.get(id)?.name ?? id;
  if (rule.onFailover !== "own") {
    if (rule.failoverIspId !== null) {
      add(
        ["failoverIspId"],
        rule.onFailover === "stay"
          ? "a rule that never moves cannot have its own backup ISP: choose one or the other"
          : `an own backup ISP applies only when the rule's traffic goes to its own backup on failover`,
      );
    }
    if (rule.onFailover === "stay" && rule.fallbackPoolId !== null) {
      add(["fallbackPoolId"], "a rule that never moves keeps its own pool: it cannot have a fallback pool");
    }
    return;
  }
  if (action.type === "drop") {
    add(["onFailover"], "a rule that drops has no traffic to send to a backup");
    return;
  }
  const own = rule.failoverIspId;
  if (own === null) {
    add(["failoverIspId"], "is required when the rule goes to its own backup on failover");
    return;
  }
  if (!p.known.isp.has(own)) {
    add(["failoverIspId"], `own backup ISP "${own}" does not exist`);
    return;
  }
  const exit = rule.redirectIspId ?? rule.egressIspId;
  if (exit !== null && own === exit) {
    add(
      ["failoverIspId"],
      `own backup ISP "${ispName(own)}" is the ISP the rule's traffic leaves through: pick another ISP`,
    );
  }
  if (action.type !== "snat") return;
  const pool = rule.fallbackPoolId === null ? undefined : pools.get(rule.fallbackPoolId);
  if (pool !== undefined && pool.ispId !== own) {
    add(
      ["fallbackPoolId"],
      `pool "${pool.name}" belongs to ISP "${ispName(pool.ispId)}", not to the rule's own backup "${ispName(own)}": its addresses would leave through the wrong ISP`,
    );
  }
  if (rule.fallbackPoolId === null && (isps.get(own)?.defaultPoolId ?? null) === null) {
    add(
      ["fallbackPoolId"],
      `own backup ISP "${ispName(own)}" has no default pool: choose a pool of "${ispName(own)}" for this rule`,
    );
  }
}

function checkRules(
  p: Parsed,
  isps: Map<string, Isp>,
  pools: Map<string, Pool>,
  zones: Map<string, Zone>,
  out: Issues,
) {
  const bySeq = new Map<number, Rule[]>();
  let entries = 0;
  const ispName = (id: string) => isps.get(id)?.name ?? id;
  for (const rule of p.rules) {
    const add = (path: (string | number)[], message: string) => out.add("rule", rule.id, path, message);
    bySeq.set(rule.seq, [...(bySeq.get(rule.seq) ?? []), rule]);

    let sources = 0;
    if (rule.source.kind === "zone") {
      if (!p.known.zone.has(rule.source.zoneId))
        add(["source", "zoneId"], `zone "${rule.source.zoneId}" does not exist`);
      sources = zones.get(rule.source.zoneId)?.networks.length ?? 0;
    } else {
      duplicateNetworks("rule", rule.id, ["source", "cidrs"], rule.source.cidrs, out);
      sources = rule.source.cidrs.length;
    }
    duplicateNetworks("rule", rule.id, ["destinations"], rule.destinations, out);
    if (rule.enabled) entries += sources * Math.max(1, rule.destinations.length);

    if (rule.egressIspId !== null && !p.known.isp.has(rule.egressIspId)) {
      add(["egressIspId"], `egress ISP "${rule.egressIspId}" does not exist`);
    }
    checkCriteria(rule, [...isps.values()], add);
    const action = rule.action;
    if (action.type === "snat" && !p.known.pool.has(action.poolId)) {
      add(["action", "poolId"], `SNAT pool "${action.poolId}" does not exist`);
    }
    if (rule.redirectIspId !== null) {
      if (!p.known.isp.has(rule.redirectIspId)) {
        add(["redirectIspId"], `redirect ISP "${rule.redirectIspId}" does not exist`);
      } else if (rule.redirectIspId === rule.egressIspId) {
        add(
          ["redirectIspId"],
          `redirect ISP "${ispName(rule.redirectIspId)}" is the rule's egress ISP: a redirect must send traffic through another ISP`,
        );
      }
      if (action.type === "drop") add(["redirectIspId"], "a redirect has no effect on a rule that drops");
    }
    if (rule.fallbackPoolId !== null) {
      if (!p.known.pool.has(rule.fallbackPoolId)) {
        add(["fallbackPoolId"], `fallback pool "${rule.fallbackPoolId}" does not exist`);
      } else if (action.type !== "snat") {
        add(["fallbackPoolId"], "a fallback pool applies only to SNAT rules");
      } else if (rule.fallbackPoolId === action.poolId) {
        const name = pools.get(action.poolId)?.name ?? action.poolId;
        add(["fallbackPoolId"], `fallback pool "${name}" is the rule's own pool: pick a pool of a backup ISP`);
      }
    }
    checkRuleFailover(rule, action, p, isps, pools, add);
  }
  for (const [seq, group] of bySeq) {
    if (group.length < 2) continue;
    for (const r of group) out.add("rule", r.id, ["seq"], `creation order ${seq} is used by another rule too`);
  }
  if (entries > MAX_ENTRIES) {
    out.add(
      "rule",
      null,
      [],
      `the enabled rules expand into ${fmt(entries)} entries (source networks × destinations); a cluster can have at most ${fmt(MAX_ENTRIES)}`,
    );
  }
}

/**
 * Every problem of a policy; empty when it can be published. Never throws: any input shape,
 * however broken, comes back as issues. With the cluster's gateways in `context`, every gateway
 * is checked for complete settings, not only those that have an entry.
 */
export function validatePolicy(policy: Policy | unknown, context: ValidationContext = {}): PolicyIssue[] {
  const out = new Issues();
  const p = parseAll(policy, out);
  const isps = new Map(p.isps.map((x) => [x.id, x]));
  const pools = new Map(p.pools.map((x) => [x.id, x]));
  const zones = new Map(p.zones.map((x) => [x.id, x]));
  checkUniqueNames("isp", p.isps, out);
  checkUniqueNames("pool", p.pools, out);
  checkUniqueNames("zone", p.zones, out);
  const poolItems = checkPools(p, out);
  checkIsps(p, pools, poolItems, out);
  checkOnLink(p, poolItems, out);
  checkZones(p, out);
  checkRules(p, isps, pools, zones, out);
  checkGuardInterfaces(p, out);
  if (p.settings !== null) {
    const whole: Policy = { settings: p.settings, isps: p.isps, pools: p.pools, zones: p.zones, rules: p.rules };
    for (const i of validateHa(whole, context)) out.add("settings", null, i.path, i.message);
  }
  return out.list;
}

const NEW_ID = "__new__";

/**
 * The issues one entity would have in the policy: it replaces the entity with the same id, or is
 * added. A new entity may come without id (and a rule without creation order, an ISP without
 * index); its issues then carry id null.
 */
export function validateEntity(policy: Policy, kind: PolicyPart, entity: unknown): PolicyIssue[] {
  if (kind === "settings") {
    return validatePolicy({ ...policy, settings: entity }).filter((i) => i.entity === "settings");
  }
  if (!isRecord(entity)) {
    return [{ entity: kind, id: null, path: [], message: `a ${ENTITY_NOUN[kind]} must be a set of fields` }];
  }
  const key = LIST_KEY[kind];
  const list = policy[key] as PolicyEntity[];
  const hasId = typeof entity.id === "string" && entity.id !== "";
  const id = hasId ? (entity.id as string) : NEW_ID;
  const candidate: Record<string, unknown> = { ...entity, id };
  if (kind === "rule" && candidate.seq === undefined) {
    candidate.seq = policy.rules.reduce((m, r) => Math.max(m, r.seq + 1), 0);
  }
  if (kind === "isp" && candidate.index === undefined) {
    const used = new Set(policy.isps.map((i) => i.index));
    let free = 1;
    while (used.has(free)) free++;
    candidate.index = free;
  }
  const at = list.findIndex((e) => e.id === id);
  const next = at === -1 ? [...list, candidate] : list.map((e, i) => (i === at ? candidate : e));
  return validatePolicy({ ...policy, [key]: next })
    .filter((i) => i.entity === kind && i.id === id)
    .map((i) => (hasId ? i : { ...i, id: null }));
}

export interface Dependent {
  entity: EntityKind;
  id: string;
  /** how the dependent is named in messages, e.g. `rule #12` or `pool "isp-a-main"` */
  name: string;
  /** the dependent's field that refers to the thing */
  path: (string | number)[];
  message: string;
}

/** What refers to an entity: a delete must be refused (or these changed first) while this is not empty. */
export function dependentsOf(policy: Policy, kind: PolicyPart, id: string): Dependent[] {
  const out: Dependent[] = [];
  const dep = (entity: EntityKind, e: PolicyEntity, path: (string | number)[], how: string) => {
    const name = describeEntity(entity, e, policy);
    out.push({ entity, id: e.id, name, path, message: `${name} ${how}` });
  };
  if (kind === "isp") {
    for (const pool of policy.pools) if (pool.ispId === id) dep("pool", pool, ["ispId"], "belongs to it");
    for (const isp of policy.isps) {
      const i = isp.backupIspIds.indexOf(id);
      if (isp.id !== id && i !== -1) dep("isp", isp, ["backupIspIds", i], "uses it as a backup");
    }
    for (const rule of policy.rules) {
      if (rule.egressIspId === id) dep("rule", rule, ["egressIspId"], "matches traffic leaving through it");
      if (rule.redirectIspId === id) dep("rule", rule, ["redirectIspId"], "redirects traffic to it");
      if (rule.failoverIspId === id) dep("rule", rule, ["failoverIspId"], "uses it as its own backup on failover");
    }
  } else if (kind === "pool") {
    for (const isp of policy.isps) {
      if (isp.defaultPoolId === id) dep("isp", isp, ["defaultPoolId"], "uses it as its default pool");
    }
    for (const rule of policy.rules) {
      if (rule.action.type === "snat" && rule.action.poolId === id) {
        dep("rule", rule, ["action", "poolId"], "translates to its addresses");
      }
      if (rule.fallbackPoolId === id) dep("rule", rule, ["fallbackPoolId"], "uses it as its fallback pool");
    }
  } else if (kind === "zone") {
    for (const rule of policy.rules) {
      if (rule.source.kind === "zone" && rule.source.zoneId === id)
        dep("rule", rule, ["source", "zoneId"], "uses it as its source");
    }
  }
  return out;
}

/** An issue as one line for places that show it away from its entity (publish errors, toasts). */
export function describeIssue(policy: Policy, issue: PolicyIssue): string {
  if (issue.entity === "settings") return `settings: ${issue.message}`;
  const list = policy[LIST_KEY[issue.entity]] as PolicyEntity[];
  const e = issue.id === null ? undefined : list.find((x) => x.id === issue.id);
  const who = e
    ? describeEntity(issue.entity, e, policy)
    : issue.id
      ? `${ENTITY_NOUN[issue.entity]} ${issue.id}`
      : `${LIST_KEY[issue.entity]}`;
  return `${who}: ${issue.message}`;
}

/**
 * The further criteria: ports exist only for tcp and udp, and connections that come in from an
 * ISP are never classified (they are not the LAN's), so an ISP's interface is no input interface.
 */
function checkCriteria(rule: Rule, isps: Isp[], add: (path: (string | number)[], message: string) => void) {
  if ((rule.dstPorts ?? []).length > 0 && rule.protocol !== "tcp" && rule.protocol !== "udp") {
    add(["dstPorts"], "destination ports need protocol tcp or udp");
  }
  (rule.inInterfaces ?? []).forEach((name, i) => {
    const isp = isps.find((x) => x.interface === name);
    if (isp !== undefined) {
      add(
        ["inInterfaces", i],
        `"${name}" is the interface of ISP "${isp.name}": traffic coming in from an ISP is not the LAN's and no rule sees it`,
      );
    }
  });
}

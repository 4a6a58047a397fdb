import { type Isp, type Policy, type Pool, poolHasAddresses, type Rule } from "./model";
import { type Cidr, type Interval, intervalSize, parseAddressRange, parseCidr } from "../address";
import { type OrderedEntry, orderEntries, orderModeOf, rulePositions } from "./order";
import { rulesNamed } from "./rule-name";
import { criteriaCount } from "./match-criteria";
import { fmt } from "./validate";
import { slicesInForce } from "./pool-slices";
import { describeEntity, LIST_KEY, type PolicyEntity, type PolicyPart } from "./entities";

/**
 * Things that are allowed but probably not meant: rules that can never match, overlapping zones,
 * unused or undersized pools, pools of the wrong ISP, failovers without a pool. Warnings never
 * block publishing. Expects a policy without validation issues (it skips what it cannot resolve).
 *
 * Sized for 10,000 rules: nothing compares every rule with every other one.
 */

export type WarningCode =
  | "rule-shadowed"
  | "zone-overlap"
  | "pool-unused"
  | "pool-isp-mismatch"
  | "pool-any-egress"
  | "pool-too-small"
  | "pool-fewer-than-gateways"
  | "failover-no-pool"
  | "failover-pool-mismatch"
  | "failover-no-backup"
  | "backup-no-default-pool"
  | "rule-iif-not-lan";

export interface PolicyWarning {
  entity: PolicyPart;
  id: string | null;
  code: WarningCode;
  /** the field the warning is about, when there is one */
  path: (string | number)[];
  message: string;
  /** other entities the message names */
  related: Array<{ entity: PolicyPart; id: string }>;
}

/** Source networks larger than this (a /8) are catch-alls, not a count of clients. */
const MAX_COUNTED_SOURCE = 1n << 24n;

/** Below this many source ports per client address and destination a pool is reported as too small. */
export const MIN_PORTS_PER_CLIENT = 64;
/** Ports the kernel picks from when a pool has no port range and a source port must change. */
export const DEFAULT_PORTS = 65_535 - 1024 + 1;

// ---------------------------------------------------------------------------------------------
// shadowed rules

const TWO32 = 2 ** 32;

interface EntryKey {
  srcStart: number;
  srcPrefix: number;
  dstStart: number;
  dstPrefix: number;
}

const keyOf = (start: number, prefix: number) => prefix * TWO32 + start;
const maskTo = (start: number, prefix: number) => {
  const size = 2 ** (32 - prefix);
  return start - (start % size);
};

function entryKey(e: OrderedEntry): EntryKey {
  // "any destination" matches exactly what 0.0.0.0/0 matches
  return {
    srcStart: Number(e.source.start),
    srcPrefix: e.source.prefix,
    dstStart: e.destination ? Number(e.destination.start) : 0,
    dstPrefix: e.destination?.prefix ?? 0,
  };
}

/** The (protocol, egress) pairs of an earlier entry that would take every packet of this one. */
function coveringCombos(e: OrderedEntry): string[] {
  const { protocol, egressIspId } = e.rule;
  const combos = ["any|*"];
  if (protocol !== "any") combos.push(`${protocol}|*`);
  if (egressIspId !== null) combos.push(`any|${egressIspId}`);
  if (protocol !== "any" && egressIspId !== null) combos.push(`${protocol}|${egressIspId}`);
  return combos;
}

/**
 * A rule is shadowed when each of its entries is contained by one earlier entry in source,
 * destination, protocol and egress, and that entry sets none of the further criteria (ports,
 * input interfaces, mark). Coverage by several earlier entries together (two /25s over
 * a /24) is not detected, so the warning is never wrong, only sometimes missing.
 *
 * Earlier entries are indexed by exact (source network, destination network); an entry looks up
 * only the networks that could contain it, i.e. its own networks masked to the prefix lengths
 * that occur in the policy.
 */
function shadowedRules(policy: Policy, entries: OrderedEntry[], positions: Map<string, number>, out: PolicyWarning[]) {
  const index = new Map<number, Map<number, Map<string, string>>>();
  const srcPrefixes = new Set<number>();
  const dstPrefixes = new Set<number>();
  const coveredBy = new Map<string, Set<string>>();
  const uncovered = new Set<string>();

  for (const e of entries) {
    const k = entryKey(e);
    const combos = coveringCombos(e);
    let coverer: string | null = null;
    search: for (const sp of srcPrefixes) {
      if (sp > k.srcPrefix) continue;
      const byDst = index.get(keyOf(maskTo(k.srcStart, sp), sp));
      if (byDst === undefined) continue;
      for (const dp of dstPrefixes) {
        if (dp > k.dstPrefix) continue;
        const found = byDst.get(keyOf(maskTo(k.dstStart, dp), dp));
        if (found === undefined) continue;
        for (const c of combos) {
          const rid = found.get(c);
          if (rid !== undefined) {
            coverer = rid;
            break search;
          }
        }
      }
    }
    if (coverer === null) uncovered.add(e.rule.id);
    else if (coverer !== e.rule.id) {
      const set = coveredBy.get(e.rule.id) ?? new Set<string>();
      set.add(coverer);
      coveredBy.set(e.rule.id, set);
    }

    // an entry with ports, input interfaces or a mark takes only some packets: it covers nothing
    if (criteriaCount(e.rule) > 0) continue;
    srcPrefixes.add(k.srcPrefix);
    dstPrefixes.add(k.dstPrefix);
    const sk = keyOf(k.srcStart, k.srcPrefix);
    let byDst = index.get(sk);
    if (byDst === undefined) {
      byDst = new Map();
      index.set(sk, byDst);
    }
    const dk = keyOf(k.dstStart, k.dstPrefix);
    let combosHere = byDst.get(dk);
    if (combosHere === undefined) {
      combosHere = new Map();
      byDst.set(dk, combosHere);
    }
    const own = `${e.rule.protocol}|${e.rule.egressIspId ?? "*"}`;
    if (!combosHere.has(own)) combosHere.set(own, e.rule.id);
  }

  const rules = new Map(policy.rules.map((r) => [r.id, r]));
  for (const [ruleId, by] of coveredBy) {
    const rule = rules.get(ruleId);
    if (rule === undefined || uncovered.has(ruleId)) continue;
    const names = [...by].map((id) => ({ id, pos: positions.get(id) ?? 0 })).sort((a, b) => a.pos - b.pos);
    const words = atPositions(names.map((x) => x.pos));
    out.push({
      entity: "rule",
      id: ruleId,
      code: "rule-shadowed",
      path: [],
      message: `never matches: every connection it could match is taken first by ${words} (same or wider source, destination, protocol and egress ISP)`,
      related: names.map((x) => ({ entity: "rule", id: x.id })),
    });
  }
}

/** Rules are named by their place in the rules table: "rule #3", "rules #2 and #5". */
function atPositions(positions: number[]): string {
  return rulesNamed(positions);
}

function joinAnd(words: string[]): string {
  const shown = words.slice(0, 5);
  if (words.length > shown.length) return `${shown.join(", ")} and ${words.length - shown.length} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// overlapping zones

function overlappingZones(policy: Policy, out: PolicyWarning[]) {
  const nets: Array<{ zoneId: string; cidr: Cidr }> = [];
  for (const z of policy.zones) {
    for (const t of z.networks) {
      const r = parseCidr(t);
      if (r.ok) nets.push({ zoneId: z.id, cidr: r.value });
    }
  }
  // CIDRs either nest or are disjoint, so the open networks at any point form one chain of containers
  nets.sort((a, b) =>
    a.cidr.start !== b.cidr.start ? (a.cidr.start < b.cidr.start ? -1 : 1) : a.cidr.prefix - b.cidr.prefix,
  );
  const pairs = new Map<string, { outer: (typeof nets)[number]; inner: (typeof nets)[number] }>();
  const stack: typeof nets = [];
  for (const cur of nets) {
    while (stack.length > 0 && (stack[stack.length - 1] as (typeof nets)[number]).cidr.end < cur.cidr.start)
      stack.pop();
    for (const open of stack) {
      if (open.zoneId === cur.zoneId) continue;
      const key = open.zoneId < cur.zoneId ? `${open.zoneId}\u0000${cur.zoneId}` : `${cur.zoneId}\u0000${open.zoneId}`;
      if (!pairs.has(key)) pairs.set(key, { outer: open, inner: cur });
    }
    stack.push(cur);
  }
  const zones = new Map(policy.zones.map((z) => [z.id, z]));
  // zones whose rules have a pinned position: the pin decides before the source's specificity
  const pinned = new Set(
    policy.rules
      .filter((r) => r.priority !== null && r.source.kind === "zone")
      .map((r) => (r.source as { zoneId: string }).zoneId),
  );
  const say = (a: string, b: string, outer: Cidr, inner: Cidr) => {
    const other = zones.get(b);
    const how = outer.text === inner.text ? `both have ${outer.text}` : `${inner.text} is inside ${outer.text}`;
    const decides =
      orderModeOf(policy) === "list"
        ? "rules decide in the order listed"
        : pinned.has(a) || pinned.has(b)
          ? "rules with a pinned position decide first, the others by the most specific source"
          : "rules decide by the most specific source";
    out.push({
      entity: "zone",
      id: a,
      code: "zone-overlap",
      path: ["networks"],
      message: `overlaps zone "${other?.name ?? b}" (${how}); ${decides}, which may not be the zone you expect`,
      related: [{ entity: "zone", id: b }],
    });
  };
  for (const { outer, inner } of pairs.values()) {
    say(outer.zoneId, inner.zoneId, outer.cidr, inner.cidr);
    say(inner.zoneId, outer.zoneId, outer.cidr, inner.cidr);
  }
}

// ---------------------------------------------------------------------------------------------
// pools

function unusedPools(policy: Policy, out: PolicyWarning[]) {
  const used = new Set<string>();
  const usedByDisabled = new Set<string>();
  for (const isp of policy.isps) if (isp.defaultPoolId) used.add(isp.defaultPoolId);
  for (const r of policy.rules) {
    const target = r.enabled ? used : usedByDisabled;
    if (r.action.type === "snat") target.add(r.action.poolId);
    if (r.fallbackPoolId) target.add(r.fallbackPoolId);
  }
  for (const pool of policy.pools) {
    if (used.has(pool.id)) continue;
    out.push({
      entity: "pool",
      id: pool.id,
      code: "pool-unused",
      path: [],
      message: usedByDisabled.has(pool.id)
        ? "is used only by disabled rules: no connection gets its addresses"
        : "no rule, fallback or ISP default uses this pool: no connection gets its addresses",
      related: [],
    });
  }
}

function poolSize(pool: Pool): bigint {
  let n = 0n;
  for (const t of pool.addresses) {
    const r = parseAddressRange(t);
    if (r.ok) n += intervalSize(r.value);
  }
  return n;
}

/** How many addresses a set of networks covers, counting overlaps once. */
function unionSize(intervals: Interval[]): bigint {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let total = 0n;
  let curStart = -1n;
  let curEnd = -2n;
  for (const i of sorted) {
    if (i.start > curEnd + 1n) {
      if (curEnd >= curStart && curStart >= 0n) total += curEnd - curStart + 1n;
      curStart = i.start;
      curEnd = i.end;
    } else if (i.end > curEnd) curEnd = i.end;
  }
  if (curStart >= 0n) total += curEnd - curStart + 1n;
  return total;
}

function undersizedPools(
  policy: Policy,
  sources: Map<string, Cidr[]>,
  positions: Map<string, number>,
  out: PolicyWarning[],
) {
  const users = new Map<string, Rule[]>();
  for (const r of policy.rules) {
    if (!r.enabled) continue;
    const ids = new Set<string>();
    if (r.action.type === "snat") ids.add(r.action.poolId);
    if (r.fallbackPoolId) ids.add(r.fallbackPoolId);
    for (const id of ids) users.set(id, [...(users.get(id) ?? []), r]);
  }
  for (const pool of policy.pools) {
    const rules = users.get(pool.id);
    // an interface-address pool's size is the uplink's one address, which the policy does not know
    if (!rules || !poolHasAddresses(pool.mode)) continue;
    // a source wider than a /8 (0.0.0.0/0, a catch-all) says nothing of how many clients there are
    const all = rules.flatMap((r) => sources.get(r.id) ?? []);
    const clients = unionSize(all.filter((c) => intervalSize(c) <= MAX_COUNTED_SOURCE));
    if (clients === 0n) continue;
    const addresses = poolSize(pool);
    const ports = pool.portRange ? pool.portRange.to - pool.portRange.from + 1 : DEFAULT_PORTS;
    const capacity = addresses * BigInt(ports);
    if (capacity >= clients * BigInt(MIN_PORTS_PER_CLIENT)) continue;
    const perClient = Number(capacity) / Number(clients);
    const range = pool.portRange ? `${pool.portRange.from}-${pool.portRange.to}` : "1024-65535, no port range set";
    const ruleWords = atPositions(rules.map((r) => positions.get(r.id) ?? 0).sort((a, b) => a - b));
    out.push({
      entity: "pool",
      id: pool.id,
      code: "pool-too-small",
      path: ["addresses"],
      message:
        `${fmt(addresses)} address${addresses === 1n ? "" : "es"} × ${fmt(ports)} ports (${range}) = ${fmt(capacity)} source ports ` +
        `for ${fmt(clients)} client addresses (sources of ${ruleWords}): ` +
        `${perClient < 10 ? perClient.toFixed(2) : Math.floor(perClient)} ports per client for any one destination, ` +
        `below ${MIN_PORTS_PER_CLIENT}; add addresses or widen the port range`,
      related: rules.map((r) => ({ entity: "rule", id: r.id })),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// pools of the wrong ISP, failover plans

/** The ISPs a rule's connections can leave through before any failover: its redirect, else its egress, else any. */
function exitIsps(rule: Rule, isps: Isp[]): Isp[] {
  const want = rule.redirectIspId ?? rule.egressIspId;
  return want === null ? isps : isps.filter((i) => i.id === want);
}

function poolsAndFailover(policy: Policy, out: PolicyWarning[]) {
  const isps = new Map(policy.isps.map((i) => [i.id, i]));
  const pools = new Map(policy.pools.map((p) => [p.id, p]));
  const ispName = (id: string) => isps.get(id)?.name ?? id;

  for (const isp of policy.isps) {
    if (isp.failoverMode === "automatic" && isp.backupIspIds.length === 0) {
      out.push({
        entity: "isp",
        id: isp.id,
        code: "failover-no-backup",
        path: ["backupIspIds"],
        message: "fails over automatically but has no backup ISP: when it goes down, nothing can take its traffic",
        related: [],
      });
    }
    isp.backupIspIds.forEach((b, i) => {
      const backup = isps.get(b);
      if (!backup || backup.defaultPoolId !== null) return;
      out.push({
        entity: "isp",
        id: isp.id,
        code: "backup-no-default-pool",
        path: ["backupIspIds", i],
        message: `backup ISP "${backup.name}" has no default pool: on failover, SNAT rules without a fallback pool keep this ISP's addresses, which "${backup.name}" will not route back`,
        related: [{ entity: "isp", id: b }],
      });
    });
  }

  for (const rule of policy.rules) {
    if (!rule.enabled || rule.action.type !== "snat") continue;
    const pool = pools.get(rule.action.poolId);
    if (!pool) continue;
    const exits = exitIsps(rule, policy.isps);
    const pinned = rule.redirectIspId ?? rule.egressIspId;
    if (pinned !== null && pool.ispId !== pinned) {
      const field = rule.redirectIspId !== null ? "redirect" : "egress";
      out.push({
        entity: "rule",
        id: rule.id,
        code: "pool-isp-mismatch",
        path: ["action", "poolId"],
        message: `pool "${pool.name}" belongs to ISP "${ispName(pool.ispId)}", but the rule's ${field} ISP is "${ispName(pinned)}": its connections would leave through "${ispName(pinned)}" with "${ispName(pool.ispId)}"'s addresses`,
        related: [
          { entity: "pool", id: pool.id },
          { entity: "isp", id: pinned },
        ],
      });
    } else if (pinned === null && policy.isps.length > 1) {
      const others = policy.isps.filter((i) => i.id !== pool.ispId).map((i) => `"${i.name}"`);
      out.push({
        entity: "rule",
        id: rule.id,
        code: "pool-any-egress",
        path: ["egressIspId"],
        message: `matches traffic leaving through any ISP, but pool "${pool.name}" belongs to "${ispName(pool.ispId)}": connections routed through ${joinAnd(others)} would carry "${ispName(pool.ispId)}"'s addresses; set an egress ISP or a redirect`,
        related: [{ entity: "pool", id: pool.id }],
      });
    }

    // a rule that never moves has no failover pool; an own backup's pool is checked by validation
    if (rule.onFailover !== "follow") continue;
    const noPool: string[] = [];
    const mismatched: string[] = [];
    for (const from of exits) {
      for (const b of from.backupIspIds) {
        const backup = isps.get(b);
        if (!backup) continue;
        const chosen = rule.fallbackPoolId ?? backup.defaultPoolId;
        if (chosen === null) {
          noPool.push(`"${from.name}" → "${backup.name}"`);
          continue;
        }
        const p = pools.get(chosen);
        if (p && p.ispId !== backup.id) {
          mismatched.push(`"${from.name}" → "${backup.name}" uses "${p.name}" of "${ispName(p.ispId)}"`);
        }
      }
    }
    if (noPool.length > 0) {
      out.push({
        entity: "rule",
        id: rule.id,
        code: "failover-no-pool",
        path: ["fallbackPoolId"],
        message: `has no pool for failover ${joinAnd(noPool)}: no fallback pool and the backup has no default pool, so connections would keep pool "${pool.name}"'s addresses through the backup`,
        related: [],
      });
    }
    if (mismatched.length > 0 && rule.fallbackPoolId !== null) {
      out.push({
        entity: "rule",
        id: rule.id,
        code: "failover-pool-mismatch",
        path: ["fallbackPoolId"],
        message: `on failover its fallback pool does not belong to the backup: ${joinAnd(mismatched)}`,
        related: [{ entity: "pool", id: rule.fallbackPoolId }],
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Pools that cannot give each active gateway an address of its own: the cluster's specs do not
 * compile until the pool grows, a gateway goes or the cluster becomes an active/standby pair.
 * Apart from policyWarnings because it depends on the cluster's gateways, not on the policy alone.
 */
export function sliceWarnings(policy: Policy, gatewayIds: readonly string[]): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  if (!slicesInForce(policy, gatewayIds)) return out;
  const gateways = new Set(gatewayIds).size;
  for (const pool of policy.pools) {
    const addresses = poolSize(pool);
    if (addresses >= BigInt(gateways) || !poolHasAddresses(pool.mode)) continue;
    out.push({
      entity: "pool",
      id: pool.id,
      code: "pool-fewer-than-gateways",
      path: ["addresses"],
      message:
        `${fmt(addresses)} address${addresses === 1n ? "" : "es"} for ${gateways} active gateways: each gateway SNATs to its own slice of the pool, ` +
        "so every gateway needs at least one address; gateways get no new policy until you add addresses, remove a gateway or make the cluster an active/standby pair",
      related: [],
    });
  }
  return out;
}

export function policyWarnings(policy: Policy): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  const entries = orderEntries(policy);
  const positions = rulePositions(policy);
  const sources = new Map<string, Cidr[]>();
  for (const e of entries) {
    const list = sources.get(e.rule.id);
    if (list) list.push(e.source);
    else sources.set(e.rule.id, [e.source]);
  }

  shadowedRules(policy, entries, positions, out);
  overlappingZones(policy, out);
  unusedPools(policy, out);
  undersizedPools(policy, sources, positions, out);
  poolsAndFailover(policy, out);
  inputInterfaces(policy, out);
  return out;
}

/**
 * With LAN interfaces named, a rule's input interface that is none of them (nor an internal one)
 * is most likely a typo or a name another gateway uses: LAN traffic never comes in by it.
 */
function inputInterfaces(policy: Policy, out: PolicyWarning[]) {
  const { lanInterfaces, internalInterfaces } = policy.settings;
  if (lanInterfaces.length === 0) return;
  const known = new Set([...lanInterfaces, ...internalInterfaces]);
  for (const rule of policy.rules) {
    const unknown = (rule.inInterfaces ?? []).filter((n) => !known.has(n));
    if (unknown.length === 0) continue;
    out.push({
      entity: "rule",
      id: rule.id,
      code: "rule-iif-not-lan",
      path: ["inInterfaces"],
      message: `matches input interface ${joinAnd(unknown.map((n) => `"${n}"`))}, which is not among the cluster's LAN or internal interfaces`,
      related: [],
    });
  }
}

/** A warning as one line for lists away from its entity. */
export function describeWarning(policy: Policy, w: PolicyWarning): string {
  if (w.entity === "settings") return w.message;
  const e = (policy[LIST_KEY[w.entity]] as PolicyEntity[]).find((x) => x.id === w.id);
  return e ? `${describeEntity(w.entity, e, policy)}: ${w.message}` : w.message;
}

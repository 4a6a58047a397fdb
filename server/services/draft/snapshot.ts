import type { Db } from "../../db";
import type { Policy } from "../../../core/policy/model";
import { type OrderedRule, orderRules } from "../../../core/policy/order";
import { type PolicyIssue, validatePolicy } from "../../../core/policy/validate";
import { type PolicyWarning, policyWarnings } from "../../../core/policy/warnings";
import { getClusterOrThrow } from "../clusters/clusters";
import { loadRevisionPolicy } from "./revisions";
import { ispFromRow, poolFromRow, ruleFromRow, settingsFromCluster, virtualServiceFromRow, zoneFromRow } from "./rows";

/**
 * The draft of a cluster as read at one draft version, with what the editing pages derive from
 * it (rule order, problems, warnings, fingerprints for change detection) computed at most once.
 *
 * Every draft change bumps the cluster's draft version in the same transaction, so a snapshot
 * keyed by (cluster, draft version) never goes stale: a later change is a different key. With
 * 10,000 rules, reading and ordering the draft takes a few hundred milliseconds and warnings
 * more; the rules table asks for a page at every scroll and keystroke, so that work is shared.
 */

export interface DraftSnapshot {
  clusterId: string;
  clusterName: string;
  draftVersion: number;
  publishedRevision: number;
  policy: Policy;
  /** optimistic-concurrency version of every draft entity, by id */
  versions: ReadonlyMap<string, number>;
  /** rules in effective order, numbered as the rules table shows them */
  ordered(): readonly OrderedRule[];
  issues(): readonly PolicyIssue[];
  warnings(): readonly PolicyWarning[];
  /** canonical JSON of every entity (and the settings) by "kind:id": equal text, equal entity */
  fingerprints(): ReadonlyMap<string, string>;
}

function lazy<T>(make: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = make();
      done = true;
    }
    return value as T;
  };
}

/** JSON with object keys sorted, so two equal entities give the same text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export function policyFingerprints(policy: Policy): Map<string, string> {
  const out = new Map<string, string>();
  out.set("settings:", canonicalJson(policy.settings));
  for (const isp of policy.isps) out.set(`isp:${isp.id}`, canonicalJson(isp));
  for (const pool of policy.pools) out.set(`pool:${pool.id}`, canonicalJson(pool));
  for (const zone of policy.zones) out.set(`zone:${zone.id}`, canonicalJson(zone));
  for (const rule of policy.rules) out.set(`rule:${rule.id}`, canonicalJson(rule));
  for (const service of policy.virtualServices ?? []) out.set(`virtual_service:${service.id}`, canonicalJson(service));
  return out;
}

export function makeSnapshot(
  meta: Pick<DraftSnapshot, "clusterId" | "clusterName" | "draftVersion" | "publishedRevision">,
  policy: Policy,
  versions: ReadonlyMap<string, number>,
): DraftSnapshot {
  return {
    ...meta,
    policy,
    versions,
    ordered: lazy(() => orderRules(policy)),
    issues: lazy(() => validatePolicy(policy)),
    warnings: lazy(() => policyWarnings(policy)),
    fingerprints: lazy(() => policyFingerprints(policy)),
  };
}

// a 10,000-rule snapshot with its derived data is some tens of megabytes: keep few
const SNAPSHOTS_PER_DB = 4;
const snapshots = new WeakMap<Db, Map<string, Promise<DraftSnapshot>>>();

async function readDraft(db: Db, clusterId: string): Promise<DraftSnapshot | null> {
  const cluster = await getClusterOrThrow(db, clusterId);
  const where = { clusterId };
  const [isps, pools, zones, rules, services] = await Promise.all([
    db.isp.findMany({ where, orderBy: { seq: "asc" } }),
    db.pool.findMany({ where, orderBy: { seq: "asc" } }),
    db.zone.findMany({ where, orderBy: { seq: "asc" } }),
    db.rule.findMany({ where, orderBy: { seq: "asc" } }),
    db.virtualService.findMany({ where, orderBy: { seq: "asc" } }),
  ]);
  // a change that committed while the rows were read bumped the version: those rows may be mixed
  const after = await getClusterOrThrow(db, clusterId);
  if (after.draftVersion !== cluster.draftVersion) return null;
  const versions = new Map<string, number>();
  for (const r of [...isps, ...pools, ...zones, ...rules, ...services]) versions.set(r.id, r.version);
  const policy: Policy = {
    settings: settingsFromCluster(cluster),
    isps: isps.map(ispFromRow),
    pools: pools.map(poolFromRow),
    zones: zones.map(zoneFromRow),
    rules: rules.map(ruleFromRow),
    ...(services.length > 0 ? { virtualServices: services.map(virtualServiceFromRow) } : {}),
  };
  return makeSnapshot(
    {
      clusterId,
      clusterName: cluster.name,
      draftVersion: cluster.draftVersion,
      publishedRevision: after.publishedRevision,
    },
    policy,
    versions,
  );
}

/** The cluster's draft now, shared with every other caller that sees the same draft version. */
export async function draftSnapshot(db: Db, clusterId: string): Promise<DraftSnapshot> {
  let cache = snapshots.get(db);
  if (cache === undefined) {
    cache = new Map();
    snapshots.set(db, cache);
  }
  for (let attempt = 0; ; attempt++) {
    const cluster = await getClusterOrThrow(db, clusterId);
    // the published revision is part of the key: publishing does not bump the draft version
    const key = `${clusterId}:${cluster.draftVersion}:${cluster.publishedRevision}`;
    const cached = cache.get(key);
    if (cached !== undefined) {
      const snap = await cached.catch(() => null);
      if (snap !== null) return snap;
      cache.delete(key);
    }
    const loading = readDraft(db, clusterId).then((s) => {
      if (s === null) throw new Error("the draft changed while it was read");
      return s;
    });
    cache.set(key, loading);
    while (cache.size > SNAPSHOTS_PER_DB) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    try {
      return await loading;
    } catch (e) {
      cache.delete(key);
      if (attempt >= 3) throw e;
    }
  }
}

const PUBLISHED_PER_DB = 4;
const published = new WeakMap<Db, Map<string, Promise<{ policy: Policy; fingerprints: () => Map<string, string> }>>>();

/**
 * A published revision's policy. Revisions are immutable, so they are cached by number; revision
 * 0 is the empty policy with the cluster's current settings, so its key includes them.
 */
export async function publishedPolicy(
  db: Db,
  clusterId: string,
  number: number,
  settingsKey: string,
): Promise<{ policy: Policy; fingerprints: () => Map<string, string> }> {
  let cache = published.get(db);
  if (cache === undefined) {
    cache = new Map();
    published.set(db, cache);
  }
  const key = `${clusterId}:${number}:${number === 0 ? settingsKey : ""}`;
  let entry = cache.get(key);
  if (entry === undefined) {
    entry = loadRevisionPolicy(db, clusterId, number).then((policy) => ({
      policy,
      fingerprints: lazy(() => policyFingerprints(policy)),
    }));
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
    while (cache.size > PUBLISHED_PER_DB) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }
  return entry;
}

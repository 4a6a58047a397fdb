import type {
  Cluster,
  Isp as IspRow,
  Pool as PoolRow,
  Rule as RuleRow,
  VirtualService as VirtualServiceRow,
  Zone as ZoneRow,
} from "../../../prisma/generated/sqlite/client";
import type { Tx } from "../../db";
import {
  type ClusterSettings,
  type Isp,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  zAddressing,
  zClusterSettings,
  zMonitor,
  zOnFailover,
  zRuleAction,
  zRuleSource,
} from "../../../core/policy/model";
import { setCriteria, zMatchCriteria } from "../../../core/policy/match-criteria";
import { type VirtualService, zVirtualServiceFields } from "../../../core/policy/virtual-service";
import { z } from "zod";

/**
 * Conversions between draft rows and the policy model. JSON columns are parsed with the model's
 * schemas, so a row that somehow holds bad JSON fails loudly here instead of reaching a gateway.
 */

const zStrings = z.array(z.string());
/** only the criteria a rule sets are stored: "{}" is a rule without any */
const zRuleCriteria = z.object(zMatchCriteria);
const json = <T>(schema: z.ZodType<T>, text: string): T => schema.parse(JSON.parse(text));

export const ispFromRow = (r: IspRow): Isp => ({
  id: r.id,
  index: r.index,
  name: r.name,
  interface: r.interface,
  addressing: zAddressing.parse(r.addressing),
  nextHop: r.nextHop,
  localAddress: r.localAddress,
  probeTargets: json(zStrings, r.probeTargets),
  monitor: json(zMonitor, r.monitor),
  failoverMode: r.failoverMode as Isp["failoverMode"],
  failbackMode: r.failbackMode as Isp["failbackMode"],
  flushOnFailback: r.flushOnFailback,
  backupIspIds: json(zStrings, r.backupIspIds),
  defaultPoolId: r.defaultPoolId,
  comment: r.comment,
});

export const ispToData = (i: Omit<Isp, "id" | "index">) => ({
  name: i.name,
  interface: i.interface,
  addressing: i.addressing,
  nextHop: i.nextHop,
  localAddress: i.localAddress,
  probeTargets: JSON.stringify(i.probeTargets),
  monitor: JSON.stringify(i.monitor),
  failoverMode: i.failoverMode,
  failbackMode: i.failbackMode,
  flushOnFailback: i.flushOnFailback,
  backupIspIds: JSON.stringify(i.backupIspIds),
  defaultPoolId: i.defaultPoolId,
  comment: i.comment,
});

export const poolFromRow = (r: PoolRow): Pool => ({
  id: r.id,
  name: r.name,
  ispId: r.ispId,
  mode: r.mode as Pool["mode"],
  addresses: json(zStrings, r.addresses),
  portRange: r.portFrom !== null && r.portTo !== null ? { from: r.portFrom, to: r.portTo } : null,
  comment: r.comment,
});

export const poolToData = (p: Omit<Pool, "id">) => ({
  name: p.name,
  ispId: p.ispId,
  mode: p.mode,
  addresses: JSON.stringify(p.addresses),
  portFrom: p.portRange?.from ?? null,
  portTo: p.portRange?.to ?? null,
  comment: p.comment,
});

export const zoneFromRow = (r: ZoneRow): Zone => ({
  id: r.id,
  name: r.name,
  networks: json(zStrings, r.networks),
  comment: r.comment,
});

export const zoneToData = (z: Omit<Zone, "id">) => ({
  name: z.name,
  networks: JSON.stringify(z.networks),
  comment: z.comment,
});

export const ruleFromRow = (r: RuleRow): Rule => ({
  id: r.id,
  seq: r.seq,
  priority: r.priority,
  source: json(zRuleSource, r.source),
  destinations: json(zStrings, r.destinations),
  protocol: r.protocol as Rule["protocol"],
  ...json(zRuleCriteria, r.criteria),
  egressIspId: r.egressIspId,
  action: json(zRuleAction, r.action),
  redirectIspId: r.redirectIspId,
  fallbackPoolId: r.fallbackPoolId,
  onFailover: zOnFailover.parse(r.onFailover),
  failoverIspId: r.failoverIspId,
  enabled: r.enabled,
  comment: r.comment,
});

export const ruleToData = (r: Omit<Rule, "id" | "seq">) => ({
  priority: r.priority,
  source: JSON.stringify(r.source),
  destinations: JSON.stringify(r.destinations),
  protocol: r.protocol,
  criteria: JSON.stringify(setCriteria(r)),
  egressIspId: r.egressIspId,
  action: JSON.stringify(r.action),
  redirectIspId: r.redirectIspId,
  fallbackPoolId: r.fallbackPoolId,
  onFailover: r.onFailover,
  failoverIspId: r.failoverIspId,
  enabled: r.enabled,
  comment: r.comment,
});

export const virtualServiceFromRow = (r: VirtualServiceRow): VirtualService => ({
  ...json(zVirtualServiceFields, r.fields),
  id: r.id,
});

export const virtualServiceToData = (s: Omit<VirtualService, "id">) => {
  const { name, ...rest } = s;
  return { name, fields: JSON.stringify({ name, ...rest }) };
};

export const settingsFromCluster = (c: Pick<Cluster, "settings">): ClusterSettings =>
  json(zClusterSettings, c.settings);

/** The cluster's whole draft policy, each kind in creation order. */
export async function loadDraftPolicy(tx: Tx, cluster: Pick<Cluster, "id" | "settings">): Promise<Policy> {
  const where = { clusterId: cluster.id };
  const [isps, pools, zones, rules, services] = await Promise.all([
    tx.isp.findMany({ where, orderBy: { seq: "asc" } }),
    tx.pool.findMany({ where, orderBy: { seq: "asc" } }),
    tx.zone.findMany({ where, orderBy: { seq: "asc" } }),
    tx.rule.findMany({ where, orderBy: { seq: "asc" } }),
    tx.virtualService.findMany({ where, orderBy: { seq: "asc" } }),
  ]);
  return {
    settings: settingsFromCluster(cluster),
    isps: isps.map(ispFromRow),
    pools: pools.map(poolFromRow),
    zones: zones.map(zoneFromRow),
    rules: rules.map(ruleFromRow),
    ...(services.length > 0 ? { virtualServices: services.map(virtualServiceFromRow) } : {}),
  };
}

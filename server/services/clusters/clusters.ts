import { randomInt } from "node:crypto";
import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, isUniqueViolation, notFound, staleVersion } from "../../errors";
import {
  type ClusterSettings,
  zClusterSettings,
  zHaSettingsFields,
  zInterfaceName,
  zName,
} from "../../../core/policy/model";
import { MAX_IP_RULE_PRIORITY_BASE } from "../../../core/spec/marks";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { standaloneHa } from "../../../core/policy/ha";

export const zClusterCreate = z.object({
  name: zName,
  description: z.string().max(500, "must be at most 500 characters").default(""),
  unmatched: z.enum(["drop", "forward"]).default("drop"),
  lanInterfaces: z.array(zInterfaceName).max(32).default([]),
  internalInterfaces: z.array(zInterfaceName).max(32).default([]),
});

export const zClusterUpdate = z.object({
  id: z.string().min(1).max(64),
  /** the cluster's draft version the edit was made against */
  draftVersion: z.number().int().min(1),
  name: zName.optional(),
  description: z.string().max(500).optional(),
  unmatched: z.enum(["drop", "forward"]).optional(),
  /** where Gatehouse's ip rules start on the gateways; null: back to the default */
  ipRulePriorityBase: z.number().int().min(1).max(MAX_IP_RULE_PRIORITY_BASE).nullable().optional(),
  /** the LAN's interfaces; traffic from them may leave only by LAN, ISP or internal interfaces */
  lanInterfaces: z.array(zInterfaceName).max(32).optional(),
  internalInterfaces: z.array(zInterfaceName).max(32).optional(),
  /** the cluster's high-availability settings, replaced whole */
  ha: zHaSettingsFields.optional(),
});

const CLUSTER_SELECT = {
  id: true,
  name: true,
  description: true,
  draftVersion: true,
  publishedRevision: true,
  createdAt: true,
  updatedAt: true,
  settings: true,
} as const;

export async function getClusterOrThrow(db: Db | Tx, id: string) {
  const cluster = await db.cluster.findUnique({ where: { id }, select: CLUSTER_SELECT });
  if (!cluster) throw notFound("The cluster");
  return cluster;
}

export async function listClusters(db: Db) {
  const clusters = await db.cluster.findMany({
    select: {
      ...CLUSTER_SELECT,
      _count: { select: { isps: true, pools: true, rules: true, gateways: true } },
    },
    orderBy: { name: "asc" },
  });
  return clusters.map(({ _count, settings, ...c }) => ({
    ...c,
    settings: zClusterSettings.parse(JSON.parse(settings)),
    counts: _count,
  }));
}

export async function createCluster(db: Db, actor: Actor, meta: RequestMeta, given: z.input<typeof zClusterCreate>) {
  const input = zClusterCreate.parse(given);
  // a fixed random seed per cluster: hashes stay stable across reloads but differ between clusters
  const settings: ClusterSettings = {
    unmatched: input.unmatched,
    hashSeed: randomInt(1, 0xffffffff),
    lanInterfaces: input.lanInterfaces,
    internalInterfaces: input.internalInterfaces,
    ha: standaloneHa(),
    gateways: [],
  };
  try {
    return await db.$transaction(async (tx) => {
      const cluster = await tx.cluster.create({
        data: { name: input.name, description: input.description, settings: JSON.stringify(settings) },
        select: CLUSTER_SELECT,
      });
      await recordAudit(tx, {
        actor,
        meta,
        action: "cluster.create",
        clusterId: cluster.id,
        targetType: "cluster",
        targetId: cluster.id,
        after: { name: cluster.name, description: cluster.description, settings },
      });
      return cluster;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A cluster named "${input.name}" already exists`);
    throw e;
  }
}

export async function updateCluster(db: Db, actor: Actor, meta: RequestMeta, input: z.infer<typeof zClusterUpdate>) {
  try {
    return await db.$transaction(async (tx) => {
      const before = await getClusterOrThrow(tx, input.id);
      const settingsBefore = zClusterSettings.parse(JSON.parse(before.settings));
      const { ipRulePriorityBase: baseBefore, ...rest } = settingsBefore;
      const base = input.ipRulePriorityBase === undefined ? baseBefore : (input.ipRulePriorityBase ?? undefined);
      const settings: ClusterSettings = {
        ...rest,
        unmatched: input.unmatched ?? settingsBefore.unmatched,
        lanInterfaces: input.lanInterfaces ?? settingsBefore.lanInterfaces,
        internalInterfaces: input.internalInterfaces ?? settingsBefore.internalInterfaces,
        ha: input.ha ?? settingsBefore.ha,
        ...(base === undefined ? {} : { ipRulePriorityBase: base }),
      };
      const settingsChanged = JSON.stringify(settings) !== JSON.stringify(settingsBefore);
      const { count } = await tx.cluster.updateMany({
        where: { id: input.id, draftVersion: input.draftVersion },
        data: {
          name: input.name,
          description: input.description,
          settings: JSON.stringify(settings),
          // settings are part of the policy: changing them changes the draft
          draftVersion: settingsChanged ? { increment: 1 } : undefined,
        },
      });
      if (count === 0) throw staleVersion(`Cluster "${before.name}"`);
      const after = await getClusterOrThrow(tx, input.id);
      await recordAudit(tx, {
        actor,
        meta,
        action: "cluster.update",
        clusterId: input.id,
        targetType: "cluster",
        targetId: input.id,
        before: { name: before.name, description: before.description, settings: settingsBefore },
        after: { name: after.name, description: after.description, settings },
      });
      return after;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A cluster named "${input.name}" already exists`);
    throw e;
  }
}

export async function deleteCluster(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: { id: string; confirmName: string },
) {
  await db.$transaction(async (tx) => {
    const before = await getClusterOrThrow(tx, input.id);
    if (input.confirmName !== before.name) {
      throw conflict(`Type the cluster's name "${before.name}" to confirm deleting it`);
    }
    const gateways = await tx.gateway.count({ where: { clusterId: input.id } });
    if (gateways > 0) {
      throw conflict(`Cluster "${before.name}" still has ${gateways} gateway(s); remove them first`);
    }
    await tx.cluster.delete({ where: { id: input.id } });
    await recordAudit(tx, {
      actor,
      meta,
      action: "cluster.delete",
      clusterId: input.id,
      targetType: "cluster",
      targetId: input.id,
      before: { name: before.name, publishedRevision: before.publishedRevision },
    });
  });
}

import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, invalid, notFound, staleVersion } from "../../errors";
import { diffPolicies, isEmptyDiff, type PolicyDiff } from "../../../core/policy/diff";
import { type Policy, zPolicy } from "../../../core/policy/model";
import { validatePolicy } from "../../../core/policy/validate";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { virtualServiceProblems } from "../../../core/policy/virtual-service-validate";
import { getClusterOrThrow } from "../clusters/clusters";
import { notifyClusterChanged } from "../cluster-changes/notifier";
import {
  ispToData,
  loadDraftPolicy,
  poolToData,
  ruleToData,
  settingsFromCluster,
  virtualServiceToData,
  zoneToData,
} from "./rows";

/**
 * Revisions: publish the draft as revision N+1, revert to an older revision (publishing a copy
 * of it), discard draft changes, and diff any two of draft / revisions.
 */

export const zRevisionRef = z.union([z.literal("draft"), z.number().int().min(0)]);
export type RevisionRef = z.infer<typeof zRevisionRef>;

export const zMessage = z.string().trim().min(1, "is required: say what changed and why").max(500);

/** Revision 0 is the empty policy a cluster starts from. */
function emptyPolicy(settings: Policy["settings"]): Policy {
  return { settings, isps: [], pools: [], zones: [], rules: [] };
}

export async function loadRevisionPolicy(db: Db | Tx, clusterId: string, number: number): Promise<Policy> {
  if (number === 0) {
    const cluster = await getClusterOrThrow(db, clusterId);
    return emptyPolicy(settingsFromCluster(cluster));
  }
  const rev = await db.revision.findUnique({
    where: { clusterId_number: { clusterId, number } },
    select: { policy: true },
  });
  if (!rev) throw notFound(`Revision ${number}`);
  return zPolicy.parse(JSON.parse(rev.policy));
}

/**
 * A revision's policy as the stored JSON text, unparsed (revision 0: the empty policy), for
 * callers that parse it elsewhere, e.g. off the event loop.
 */
export async function loadRevisionPolicyText(db: Db | Tx, clusterId: string, number: number): Promise<string> {
  if (number === 0) {
    const cluster = await getClusterOrThrow(db, clusterId);
    return JSON.stringify(emptyPolicy(settingsFromCluster(cluster)));
  }
  const rev = await db.revision.findUnique({
    where: { clusterId_number: { clusterId, number } },
    select: { policy: true },
  });
  if (!rev) throw notFound(`Revision ${number}`);
  return rev.policy;
}

async function loadRef(db: Db | Tx, clusterId: string, ref: RevisionRef): Promise<Policy> {
  if (ref === "draft") return loadDraftPolicy(db as Tx, await getClusterOrThrow(db, clusterId));
  return loadRevisionPolicy(db, clusterId, ref);
}

export async function diffRevisions(
  db: Db,
  clusterId: string,
  from: RevisionRef,
  to: RevisionRef,
): Promise<PolicyDiff> {
  const [a, b] = await Promise.all([loadRef(db, clusterId, from), loadRef(db, clusterId, to)]);
  return diffPolicies(a, b);
}

export async function listRevisions(db: Db, clusterId: string, opts: { cursor?: number; limit: number }) {
  await getClusterOrThrow(db, clusterId);
  return db.revision.findMany({
    where: { clusterId, ...(opts.cursor !== undefined ? { number: { lt: opts.cursor } } : {}) },
    select: { number: true, message: true, authorName: true, createdAt: true, revertedFrom: true },
    orderBy: { number: "desc" },
    take: opts.limit,
  });
}

/** The cluster's gateways, for the checks of per-gateway settings. */
async function clusterGatewayNames(db: Db | Tx, clusterId: string) {
  return db.gateway.findMany({ where: { clusterId }, select: { id: true, name: true }, orderBy: { name: "asc" } });
}

export async function draftStatus(db: Db, clusterId: string) {
  const cluster = await getClusterOrThrow(db, clusterId);
  const [draft, published, gateways] = await Promise.all([
    loadDraftPolicy(db as unknown as Tx, cluster),
    loadRevisionPolicy(db, clusterId, cluster.publishedRevision),
    clusterGatewayNames(db, clusterId),
  ]);
  const diff = diffPolicies(published, draft);
  return {
    draftVersion: cluster.draftVersion,
    publishedRevision: cluster.publishedRevision,
    dirty: !isEmptyDiff(diff),
    diff,
    issues: validatePolicy(draft, { gateways }),
  };
}

/** Replaces every draft row of the cluster with the entities of `policy`, keeping their ids. */
export async function writeDraft(tx: Tx, clusterId: string, policy: Policy) {
  const where = { clusterId };
  await tx.rule.deleteMany({ where });
  await tx.virtualService.deleteMany({ where });
  await tx.pool.deleteMany({ where });
  await tx.zone.deleteMany({ where });
  await tx.isp.deleteMany({ where });
  let seq = 1;
  for (const isp of policy.isps) {
    await tx.isp.create({ data: { id: isp.id, clusterId, seq: seq++, index: isp.index, ...ispToData(isp) } });
  }
  for (const pool of policy.pools) {
    await tx.pool.create({ data: { id: pool.id, clusterId, seq: seq++, ...poolToData(pool) } });
  }
  for (const zone of policy.zones) {
    await tx.zone.create({ data: { id: zone.id, clusterId, seq: seq++, ...zoneToData(zone) } });
  }
  for (const service of policy.virtualServices ?? []) {
    await tx.virtualService.create({
      data: { id: service.id, clusterId, seq: seq++, ...virtualServiceToData(service) },
    });
  }
  if (policy.rules.length > 0) {
    await tx.rule.createMany({
      data: policy.rules.map((r) => ({ id: r.id, clusterId, seq: r.seq, ...ruleToData(r) })),
    });
  }
  const maxSeq = Math.max(seq, ...policy.rules.map((r) => r.seq + 1));
  const cluster = await tx.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { nextSeq: true } });
  await tx.cluster.update({
    where: { id: clusterId },
    data: {
      settings: JSON.stringify(policy.settings),
      nextSeq: Math.max(cluster.nextSeq, maxSeq),
      draftVersion: { increment: 1 },
    },
  });
}

async function publishInTx(
  tx: Tx,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  message: string,
  revertedFrom: number | null,
) {
  const cluster = await getClusterOrThrow(tx, clusterId);
  const policy = await loadDraftPolicy(tx, cluster);
  // every gateway of the cluster must be complete, not only those with settings
  const issues = [
    ...validatePolicy(policy, { gateways: await clusterGatewayNames(tx, clusterId) }),
    // a virtual service an edit elsewhere made invalid (a pool that now holds its address, say)
    ...virtualServiceProblems(policy).map((message) => ({ message })),
  ];
  if (issues.length > 0) {
    throw invalid(
      `The draft has ${issues.length} problem(s) to fix before it can be published: ${issues
        .slice(0, 3)
        .map((i) => i.message)
        .join("; ")}`,
    );
  }
  const previous = await loadRevisionPolicy(tx, clusterId, cluster.publishedRevision);
  const diff = diffPolicies(previous, policy);
  if (isEmptyDiff(diff)) {
    throw conflict(`Nothing to publish: the draft is the same as revision ${cluster.publishedRevision}`);
  }
  const number = cluster.publishedRevision + 1;
  const { count } = await tx.cluster.updateMany({
    where: { id: clusterId, publishedRevision: cluster.publishedRevision },
    data: { publishedRevision: number },
  });
  if (count === 0) throw conflict("Someone else published at the same time; review the changes and try again");
  await tx.revision.create({
    data: {
      clusterId,
      number,
      message,
      authorId: actor.type === "user" ? actor.id : null,
      authorName: actor.name,
      policy: JSON.stringify(policy),
      revertedFrom,
    },
  });
  await recordAudit(tx, {
    actor,
    meta,
    action: revertedFrom === null ? "cluster.publish" : "cluster.revert",
    clusterId,
    targetType: "revision",
    targetId: String(number),
    before: { revision: cluster.publishedRevision },
    after: { revision: number, message, revertedFrom, changes: diff.summary },
  });
  return { number, diff };
}

export async function publish(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: { clusterId: string; message: string; draftVersion: number },
) {
  const result = await db.$transaction(async (tx) => {
    const cluster = await getClusterOrThrow(tx, input.clusterId);
    if (cluster.draftVersion !== input.draftVersion) {
      throw staleVersion("The draft");
    }
    return publishInTx(tx, actor, meta, input.clusterId, input.message, null);
  });
  // only once committed: a woken agent must find the new revision
  notifyClusterChanged(input.clusterId);
  return result;
}

export async function revert(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: { clusterId: string; revision: number; message: string },
) {
  const result = await db.$transaction(async (tx) => {
    const old = await loadRevisionPolicy(tx, input.clusterId, input.revision);
    await writeDraft(tx, input.clusterId, old);
    return publishInTx(tx, actor, meta, input.clusterId, input.message, input.revision);
  });
  notifyClusterChanged(input.clusterId);
  return result;
}

/** Throws away every draft change: the draft becomes the published policy again. */
export async function discardDraft(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: { clusterId: string; draftVersion: number },
) {
  await db.$transaction(async (tx) => {
    const cluster = await getClusterOrThrow(tx, input.clusterId);
    if (cluster.draftVersion !== input.draftVersion) throw staleVersion("The draft");
    const draft = await loadDraftPolicy(tx, cluster);
    const published = await loadRevisionPolicy(tx, input.clusterId, cluster.publishedRevision);
    const diff = diffPolicies(published, draft);
    if (isEmptyDiff(diff)) throw conflict("The draft has no changes to discard");
    await writeDraft(tx, input.clusterId, published);
    await recordAudit(tx, {
      actor,
      meta,
      action: "draft.discard",
      clusterId: input.clusterId,
      targetType: "draft",
      targetId: input.clusterId,
      before: { changes: diff.summary },
      after: { revision: cluster.publishedRevision },
    });
  });
}

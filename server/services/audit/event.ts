import type { Db } from "../../db";
import { draftSnapshot } from "../draft/snapshot";
import { notFound } from "../../errors";
import { zPolicy } from "../../../core/policy/model";
import { describeEntity } from "../../../core/policy/entities";
import { downgradeProblem, eventProblem, HASH_KEYED, HASH_UNKEYED } from "./chain";
import { eventFieldDiff } from "../../../core/audit/field-diff";
import { loadEvents } from "./list";
import { parseJsonColumn } from "./store";
import { readAnchor } from "./verify";

/**
 * One audit event in full: who (user, client address, user agent), when, what it changed field
 * by field, the revision it belongs to, and whether this one event still checks out against the
 * hash chain.
 */

const PUBLISHING = ["cluster.publish", "cluster.revert", "draft.discard"];
/** Actions that change the draft: the revision that follows them in the cluster ships them. */
const DRAFT_EDIT = /^(isp|pool|zone|rule)\.(create|update|delete)$|^cluster\.update$/;

export type RelatedRevision =
  /** the event is a publish or revert, or an agent applying this revision */
  | { kind: "is"; revision: number }
  /** a draft edit that the next publish shipped */
  | { kind: "published"; revision: number; seq: number }
  /** a draft edit thrown away by a discard or by a revert (which replaces the draft) */
  | { kind: "discarded"; seq: number; action: string }
  /** a draft edit nobody has published yet */
  | { kind: "draft" }
  | null;

async function relatedRevision(
  db: Db,
  e: { seq: number; action: string; clusterId: string | null; targetId: string; after: unknown },
): Promise<RelatedRevision> {
  if (e.action === "cluster.publish" || e.action === "cluster.revert") {
    const n = Number(e.targetId);
    return Number.isInteger(n) ? { kind: "is", revision: n } : null;
  }
  if (e.action === "gateway.apply") {
    const n = (e.after as { revision?: unknown } | null)?.revision;
    return typeof n === "number" ? { kind: "is", revision: n } : null;
  }
  if (e.clusterId === null || !DRAFT_EDIT.test(e.action)) return null;
  const next = await db.auditEvent.findFirst({
    where: { clusterId: e.clusterId, seq: { gt: e.seq }, action: { in: PUBLISHING } },
    orderBy: { seq: "asc" },
    select: { seq: true, action: true, targetId: true },
  });
  if (next === null) return { kind: "draft" };
  if (next.action === "cluster.publish") return { kind: "published", revision: Number(next.targetId), seq: next.seq };
  return { kind: "discarded", seq: next.seq, action: next.action };
}

/** Names of the cluster's ISPs, pools, zones and rules, so ids in a before/after read as names. */
async function entityNames(db: Db, clusterId: string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  const [isps, pools, zones, rules, cluster] = await Promise.all([
    db.isp.findMany({ where: { clusterId }, select: { id: true, name: true } }),
    db.pool.findMany({ where: { clusterId }, select: { id: true, name: true } }),
    db.zone.findMany({ where: { clusterId }, select: { id: true, name: true } }),
    db.rule.findMany({ where: { clusterId }, select: { id: true, seq: true, comment: true } }),
    db.cluster.findUnique({ where: { id: clusterId }, select: { publishedRevision: true } }),
  ]);
  // the published revision knows entities the draft has deleted since
  if (cluster && cluster.publishedRevision > 0) {
    const rev = await db.revision.findUnique({
      where: { clusterId_number: { clusterId, number: cluster.publishedRevision } },
      select: { policy: true },
    });
    const parsed = rev ? zPolicy.safeParse(parseJsonColumn(rev.policy)) : null;
    if (parsed?.success) {
      for (const i of parsed.data.isps) names[i.id] = describeEntity("isp", i);
      for (const p of parsed.data.pools) names[p.id] = describeEntity("pool", p);
      for (const z of parsed.data.zones) names[z.id] = describeEntity("zone", z);
      for (const r of parsed.data.rules) names[r.id] = describeEntity("rule", r, parsed.data);
    }
  }
  for (const i of isps) names[i.id] = `ISP "${i.name}"`;
  for (const p of pools) names[p.id] = `pool "${p.name}"`;
  for (const z of zones) names[z.id] = `zone "${z.name}"`;
  // rules by their place in the draft as it is now
  if (rules.length > 0) {
    const draft = (await draftSnapshot(db, clusterId)).policy;
    for (const r of draft.rules) names[r.id] = describeEntity("rule", r, draft);
  }
  return names;
}

export async function getAuditEvent(db: Db, seq: number) {
  const row = await db.auditEvent.findUnique({ where: { seq } });
  if (row === null) throw notFound(`Audit event #${seq}`);
  const [view] = await loadEvents(db, [seq]);
  if (view === undefined) throw notFound(`Audit event #${seq}`);
  const [previous, next, anchor] = await Promise.all([
    db.auditEvent.findFirst({
      where: { seq: { lt: seq } },
      orderBy: { seq: "desc" },
      select: { seq: true, hash: true },
    }),
    db.auditEvent.findFirst({ where: { seq: { gt: seq } }, orderBy: { seq: "asc" }, select: { seq: true } }),
    readAnchor(db),
  ]);
  // an unkeyed event is only genuine before the first keyed one (verify.ts applies the same rule)
  const keyedBefore =
    row.hashVersion === HASH_UNKEYED
      ? await db.auditEvent.findFirst({
          where: { seq: { lt: seq }, hashVersion: HASH_KEYED },
          orderBy: { seq: "asc" },
          select: { seq: true },
        })
      : null;
  const problem = keyedBefore !== null ? downgradeProblem(keyedBefore.seq) : eventProblem(row);
  const expectedPrev = previous?.hash ?? (anchor.seq < seq ? anchor.hash : null);
  const [related, names] = await Promise.all([
    relatedRevision(db, view),
    view.clusterId === null ? Promise.resolve<Record<string, string>>({}) : entityNames(db, view.clusterId),
  ]);
  return {
    event: view,
    changes: eventFieldDiff(view.targetType, view.before, view.after),
    related,
    names,
    integrity: {
      hash: row.hash,
      prevHash: row.prevHash,
      /** true: HMAC with the audit key; false: written before the chain was keyed, checked without a key */
      keyed: row.hashVersion === HASH_KEYED,
      /** why the event does not check out on its own (unreadable, altered), or null */
      problem,
      /** the stored hash matches the event's fields */
      hashOk: problem === null,
      /** the event links to the one before it (or to the prune anchor) */
      linkOk: expectedPrev === null ? null : expectedPrev === row.prevHash,
    },
    previousSeq: previous?.seq ?? null,
    nextSeq: next?.seq ?? null,
  };
}
export type AuditEventDetail = Awaited<ReturnType<typeof getAuditEvent>>;

import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, staleVersion } from "../../errors";
import type { Isp, Pool, Rule, Zone } from "../../../core/policy/model";
import { zId } from "../../../core/policy/model";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { type DiscardOp, planDiscard } from "./discard-plan";
import { ispToData, poolToData, ruleToData, zoneToData } from "./rows";
import { canonicalJson, draftSnapshot, publishedPolicy } from "./snapshot";

/**
 * Discards one draft change: puts one entity (or the cluster settings) back as the published
 * revision has it. The plan is checked against the whole draft first (discard-plan.ts); the
 * write claims the draft version it was planned from, so nothing slips in between.
 */

export const zDiscardChangeInput = z.object({
  clusterId: zId,
  kind: z.enum(["isp", "pool", "zone", "rule", "settings"]),
  /** the entity's id; null for the settings */
  id: zId.nullable(),
  draftVersion: z.number().int().min(1),
});
export type DiscardChangeInput = z.infer<typeof zDiscardChangeInput>;

async function takeSeq(tx: Tx, clusterId: string): Promise<number> {
  const c = await tx.cluster.update({
    where: { id: clusterId },
    data: { nextSeq: { increment: 1 } },
    select: { nextSeq: true },
  });
  return c.nextSeq - 1;
}

async function write(tx: Tx, clusterId: string, op: DiscardOp) {
  const bump = { version: { increment: 1 } };
  switch (op.op) {
    case "settings":
      await tx.cluster.update({ where: { id: clusterId }, data: { settings: JSON.stringify(op.settings) } });
      return;
    case "delete": {
      const where = { id: op.id, clusterId };
      if (op.kind === "isp") await tx.isp.deleteMany({ where });
      else if (op.kind === "pool") await tx.pool.deleteMany({ where });
      else if (op.kind === "zone") await tx.zone.deleteMany({ where });
      else await tx.rule.deleteMany({ where });
      return;
    }
    case "create": {
      const e = op.entity;
      if (op.kind === "rule") {
        const r = e as Rule;
        await tx.rule.create({ data: { id: r.id, clusterId, seq: r.seq, ...ruleToData(r) } });
        return;
      }
      // published ISPs, pools and zones do not keep their creation order: a restored one comes last
      const seq = await takeSeq(tx, clusterId);
      if (op.kind === "isp") {
        const i = e as Isp;
        await tx.isp.create({ data: { id: i.id, clusterId, seq, index: i.index, ...ispToData(i) } });
      } else if (op.kind === "pool") {
        await tx.pool.create({ data: { id: e.id, clusterId, seq, ...poolToData(e as Pool) } });
      } else {
        await tx.zone.create({ data: { id: e.id, clusterId, seq, ...zoneToData(e as Zone) } });
      }
      return;
    }
    case "update": {
      const where = { id: op.id, clusterId };
      const e = op.entity;
      if (op.kind === "isp") await tx.isp.updateMany({ where, data: { ...ispToData(e as Isp), ...bump } });
      else if (op.kind === "pool") await tx.pool.updateMany({ where, data: { ...poolToData(e as Pool), ...bump } });
      else if (op.kind === "zone") await tx.zone.updateMany({ where, data: { ...zoneToData(e as Zone), ...bump } });
      else await tx.rule.updateMany({ where, data: { ...ruleToData(e as Rule), ...bump } });
      return;
    }
  }
}

export async function discardChange(db: Db, actor: Actor, meta: RequestMeta, input: DiscardChangeInput) {
  const snap = await draftSnapshot(db, input.clusterId);
  if (snap.draftVersion !== input.draftVersion) throw staleVersion("The draft");
  const published = await publishedPolicy(
    db,
    input.clusterId,
    snap.publishedRevision,
    canonicalJson(snap.policy.settings),
  );
  const plan = planDiscard(snap.policy, published.policy, snap.issues(), input.kind, input.id);
  await db.$transaction(
    async (tx) => {
      const claimed = await tx.cluster.updateMany({
        where: { id: input.clusterId, draftVersion: input.draftVersion, publishedRevision: snap.publishedRevision },
        data: { draftVersion: { increment: 1 } },
      });
      if (claimed.count === 0) {
        await getClusterOrThrow(tx, input.clusterId);
        throw conflict("The draft or the published revision changed since you loaded them; reload and try again");
      }
      await write(tx, input.clusterId, plan.op);
      const op = plan.op;
      await recordAudit(tx, {
        actor,
        meta,
        action: "draft.discard-change",
        clusterId: input.clusterId,
        targetType: input.kind,
        targetId: input.id ?? input.clusterId,
        before: op.op === "settings" ? op.before : op.op === "create" ? undefined : op.before,
        after: op.op === "settings" ? op.settings : op.op === "delete" ? undefined : op.entity,
      });
    },
    { timeout: 30_000, maxWait: 20_000 },
  );
  return { discarded: plan.what, draftVersion: input.draftVersion + 1 };
}

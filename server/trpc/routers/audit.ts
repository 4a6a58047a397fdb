import { z } from "zod";
import { zId } from "../../../core/policy/model";
import { getAuditEvent } from "../../services/audit/event";
import { auditFacets, listAuditEvents, zAuditListInput } from "../../services/audit/list";
import { getRetention, pruneAudit, setRetention, zRetentionInput } from "../../services/audit/retention";
import { revisionsWithRollout } from "../../services/revisions/rollout";
import { rulesetDiff } from "../../services/revisions/ruleset-diff";
import { verifyAuditChain } from "../../services/audit/verify";
import { adminProcedure, router, viewerProcedure } from "../init";

const zSeq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const auditRouter = router({
  /** the timeline, newest first, filtered, one keyset page at a time */
  list: viewerProcedure.input(zAuditListInput).query(({ ctx, input }) => listAuditEvents(ctx.db, input)),
  /** the actions, target types and actor names the filter form offers */
  facets: viewerProcedure.query(({ ctx }) => auditFacets(ctx.db)),
  /** one event: before/after field by field, who, the related revision, its own hash check */
  get: viewerProcedure.input(z.object({ seq: zSeq })).query(({ ctx, input }) => getAuditEvent(ctx.db, input.seq)),
  /** recomputes the hash chain and names the first event that does not match */
  verify: viewerProcedure.query(({ ctx }) => verifyAuditChain(ctx.db)),
  retention: router({
    get: viewerProcedure.query(({ ctx }) => getRetention(ctx.db)),
    set: adminProcedure
      .input(zRetentionInput)
      .mutation(({ ctx, input }) => setRetention(ctx.db, ctx.actor, ctx.meta, input)),
    /** prunes now what the hourly run would prune */
    prune: adminProcedure.mutation(({ ctx }) => pruneAudit(ctx.db, ctx.actor, ctx.meta)),
  }),
  /** a cluster's revisions with each gateway's rollout state */
  revisions: viewerProcedure
    .input(
      z.object({
        clusterId: zId,
        cursor: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(200).default(30),
      }),
    )
    .query(({ ctx, input }) => revisionsWithRollout(ctx.db, input.clusterId, input)),
  /** the nftables file two revisions render to on one gateway, diffed */
  rulesetDiff: viewerProcedure
    .input(
      z.object({
        clusterId: zId,
        gatewayId: zId,
        from: z.number().int().min(0),
        to: z.number().int().min(0),
      }),
    )
    .query(({ ctx, input }) => rulesetDiff(ctx.db, input)),
});

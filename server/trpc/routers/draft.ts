import { z } from "zod";
import { zId } from "../../../core/policy/model";
import {
  diffRevisions,
  discardDraft,
  draftStatus,
  listRevisions,
  publish,
  revert,
  zMessage,
  zRevisionRef,
} from "../../services/draft/revisions";
import { draftChanges, draftSummary } from "../../services/draft/changes";
import { discardChange, zDiscardChangeInput } from "../../services/draft/discard-change";
import {
  simulate,
  simulateInboundConnection,
  zSimulateInboundInput,
  zSimulateInput,
} from "../../services/draft/simulate";
import { draftWarnings } from "../../services/draft/warnings";
import { operatorProcedure, router, viewerProcedure } from "../init";
import { zClusterRef } from "./entities";

export const draftRouter = router({
  /** draft version, published revision, whether they differ, the changes and the draft's problems */
  status: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => draftStatus(ctx.db, input.clusterId)),
  publish: operatorProcedure
    .input(zClusterRef.extend({ message: zMessage, draftVersion: z.number().int().min(1) }))
    .mutation(({ ctx, input }) => publish(ctx.db, ctx.actor, ctx.meta, input)),
  discard: operatorProcedure
    .input(zClusterRef.extend({ draftVersion: z.number().int().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await discardDraft(ctx.db, ctx.actor, ctx.meta, input);
      return { ok: true };
    }),
  /** whether the draft differs from the published revision, with counts; cheap enough for every page */
  summary: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => draftSummary(ctx.db, input.clusterId)),
  /** every draft change in words, and the problems that block publishing */
  changes: viewerProcedure
    .input(zClusterRef.extend({ limit: z.number().int().min(1).max(20_000).default(200) }))
    .query(({ ctx, input }) => draftChanges(ctx.db, input.clusterId, input.limit)),
  /** puts one entity (or the settings) back as the published revision has it */
  discardChange: operatorProcedure
    .input(zDiscardChangeInput)
    .mutation(({ ctx, input }) => discardChange(ctx.db, ctx.actor, ctx.meta, input)),
  warnings: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => draftWarnings(ctx.db, input.clusterId)),
  /** runs the gateway's decision on a packet against the compiled draft or a revision */
  simulate: viewerProcedure.input(zSimulateInput).query(({ ctx, input }) => simulate(ctx.db, input)),
  /** a new connection from a client to a virtual address: the service, the real server, DNAT and FULLNAT */
  simulateInbound: viewerProcedure
    .input(zSimulateInboundInput)
    .query(({ ctx, input }) => simulateInboundConnection(ctx.db, input)),
});

export const revisionRouter = router({
  list: viewerProcedure
    .input(
      zClusterRef.extend({
        cursor: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => listRevisions(ctx.db, input.clusterId, input)),
  diff: viewerProcedure
    .input(z.object({ clusterId: zId, from: zRevisionRef, to: zRevisionRef }))
    .query(({ ctx, input }) => diffRevisions(ctx.db, input.clusterId, input.from, input.to)),
  revert: operatorProcedure
    .input(zClusterRef.extend({ revision: z.number().int().min(1), message: zMessage }))
    .mutation(({ ctx, input }) => revert(ctx.db, ctx.actor, ctx.meta, input)),
});

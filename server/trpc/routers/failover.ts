import { tracked } from "@trpc/server";
import { z } from "zod";
import { zId } from "../../../core/policy/model";
import { failoverIsp, restoreIsp, zFailoverInput, zRestoreInput } from "../../services/failover/actions";
import { loadClusterFailover } from "../../services/failover/cluster-state";
import { healthHistory, healthHistoryRange, latestSampleId, samplesAfter } from "../../services/failover/history";
import { failoverImpact } from "../../services/failover/impact";
import { healthOverview } from "../../services/failover/overview";
import { completeDueOperations } from "../../services/failover/progress";
import { clusterTopology } from "../../services/failover/topology";
import { operatorProcedure, router, viewerProcedure } from "../init";
import { clusterLive } from "../live-loop";

const zClusterRef = z.object({ clusterId: zId });

export const failoverRouter = router({
  /** one card per ISP with its state on every gateway, operations in progress, recent events */
  overview: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => healthOverview(ctx.db, input.clusterId)),
  /** the last 20 minutes of every gateway's loss, latency and state per ISP, in 3-second buckets */
  history: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => healthHistory(ctx.db, input.clusterId)),
  /** the cluster as the overview draws it: LAN networks, gateways, ISPs with each gateway's link, pools */
  topology: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => clusterTopology(ctx.db, input.clusterId)),
  /** a longer range (6 h to 90 d) from the minute or hour rollups: means, extremes, up time */
  historyRange: viewerProcedure
    .input(zClusterRef.extend({ range: z.enum(["6h", "24h", "7d", "90d"]) }))
    .query(({ ctx, input }) => healthHistoryRange(ctx.db, input.clusterId, input.range)),
  /** what failing over (or restoring) an ISP would change, for the confirmation */
  impact: viewerProcedure
    .input(
      zClusterRef.extend({
        ispId: zId,
        backupIspId: zId.nullable().default(null),
        action: z.enum(["failover", "restore"]),
      }),
    )
    .query(async ({ ctx, input }) => failoverImpact(await loadClusterFailover(ctx.db, input.clusterId), input)),
  failover: operatorProcedure
    .input(zFailoverInput)
    .mutation(({ ctx, input }) => failoverIsp(ctx.db, ctx.actor, ctx.meta, input)),
  restore: operatorProcedure
    .input(zRestoreInput)
    .mutation(({ ctx, input }) => restoreIsp(ctx.db, ctx.actor, ctx.meta, input)),
  /**
   * Live updates over server-sent events: the overview and the samples that arrived since the
   * last message, whenever a report arrives (at most 4 a second) and at least once a second.
   * The event id is the last sample id, so a reconnecting browser continues where it stopped.
   */
  live: viewerProcedure
    .input(zClusterRef.extend({ after: z.number().int().min(0).nullish(), lastEventId: z.string().nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const fromEvent = Number(input.lastEventId ?? Number.NaN);
      let cursor = Number.isInteger(fromEvent)
        ? fromEvent
        : (input.after ?? (await latestSampleId(ctx.db, input.clusterId)));
      yield* clusterLive({
        db: ctx.db,
        sessionId: ctx.session.sessionId,
        clusterId: input.clusterId,
        signal,
        read: async () => {
          await completeDueOperations(ctx.db, input.clusterId);
          const [overview, fresh] = await Promise.all([
            healthOverview(ctx.db, input.clusterId),
            samplesAfter(ctx.db, input.clusterId, cursor),
          ]);
          cursor = fresh.cursor;
          return tracked(String(cursor), { overview, samples: fresh.samples });
        },
      });
    }),
});

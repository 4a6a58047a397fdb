import { z } from "zod";
import { zClusterSettings } from "../../../core/policy/model";
import {
  createCluster,
  deleteCluster,
  getClusterOrThrow,
  listClusters,
  updateCluster,
  zClusterCreate,
  zClusterUpdate,
} from "../../services/clusters/clusters";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../init";

const zClusterId = z.object({ id: z.string().min(1).max(64) });

const present = <T extends { settings: string }>({ settings, ...c }: T) => ({
  ...c,
  settings: zClusterSettings.parse(JSON.parse(settings)),
});

export const clusterRouter = router({
  list: viewerProcedure.query(({ ctx }) => listClusters(ctx.db)),
  get: viewerProcedure
    .input(zClusterId)
    .query(async ({ ctx, input }) => present(await getClusterOrThrow(ctx.db, input.id))),
  create: operatorProcedure
    .input(zClusterCreate)
    .mutation(async ({ ctx, input }) => present(await createCluster(ctx.db, ctx.actor, ctx.meta, input))),
  update: operatorProcedure
    .input(zClusterUpdate)
    .mutation(async ({ ctx, input }) => present(await updateCluster(ctx.db, ctx.actor, ctx.meta, input))),
  delete: adminProcedure
    .input(z.object({ id: z.string().min(1).max(64), confirmName: z.string().max(64) }))
    .mutation(async ({ ctx, input }) => {
      await deleteCluster(ctx.db, ctx.actor, ctx.meta, input);
      return { ok: true };
    }),
});

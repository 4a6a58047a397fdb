import { listIsps, listPools, listZones } from "../../services/draft/list";
import { poolSlicesView } from "../../services/gateways/pool-slices";
import { z } from "zod";
import { zId, type zIspFields, type zNewIspPool } from "../../../core/policy/model";
import { createIspWithPool } from "../../services/draft/entities";
import { operatorProcedure, router, viewerProcedure } from "../init";
import { entityProcedures, zClusterRef } from "./entities";

export const ispRouter = router({
  list: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => listIsps(ctx.db, input.clusterId)),
  ...entityProcedures("isp"),
  /** a new ISP with its first pool, which becomes its default pool: both or neither */
  createWithPool: operatorProcedure
    .input(
      z.object({
        clusterId: zId,
        fields: z.custom<z.input<typeof zIspFields>>(() => true),
        newPool: z.custom<z.input<typeof zNewIspPool>>(() => true),
      }),
    )
    .mutation(({ ctx, input }) =>
      createIspWithPool(ctx.db, ctx.actor, ctx.meta, input.clusterId, input.fields, input.newPool),
    ),
});

export const poolRouter = router({
  list: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => listPools(ctx.db, input.clusterId)),
  /** which gateway owns which addresses, and what the upstream must route to each */
  slices: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => poolSlicesView(ctx.db, input.clusterId)),
  ...entityProcedures("pool"),
});

export const zoneRouter = router({
  list: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => listZones(ctx.db, input.clusterId)),
  ...entityProcedures("zone"),
});

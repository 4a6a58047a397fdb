import { listIsps, listPools, listZones } from "../../services/draft/list";
import { poolSlicesView } from "../../services/gateways/pool-slices";
import { router, viewerProcedure } from "../init";
import { entityProcedures, zClusterRef } from "./entities";

export const ispRouter = router({
  list: viewerProcedure.input(zClusterRef).query(({ ctx, input }) => listIsps(ctx.db, input.clusterId)),
  ...entityProcedures("isp"),
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

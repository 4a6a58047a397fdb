import { z } from "zod";
import { zId } from "../../../core/policy/model";
import { listPoolUsage } from "../../services/pool-usage/list";
import { router, viewerProcedure } from "../init";

export const poolUsageRouter = router({
  /** port usage per pool address, each pool's last hour with its forecast, conntrack per gateway, open incidents */
  list: viewerProcedure
    .input(z.object({ clusterId: zId }))
    .query(({ ctx, input }) => listPoolUsage(ctx.db, input.clusterId)),
});

import { z } from "zod";
import { createToken, listTokens, revokeToken, zTokenCreate } from "../../services/auth/tokens";
import { adminProcedure, router } from "../init";

export const tokenRouter = router({
  list: adminProcedure.query(({ ctx }) => listTokens(ctx.db)),
  /** returns the token itself, once */
  create: adminProcedure
    .input(zTokenCreate)
    .mutation(({ ctx, input }) => createToken(ctx.db, ctx.actor, ctx.meta, input)),
  revoke: adminProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => revokeToken(ctx.db, ctx.actor, ctx.meta, input.id)),
});

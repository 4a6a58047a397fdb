import { z } from "zod";
import { createUser, deleteUser, listUsers, updateUser, zUserCreate, zUserUpdate } from "../../services/auth/users";
import { adminProcedure, router } from "../init";

export const userRouter = router({
  list: adminProcedure.query(({ ctx }) => listUsers(ctx.db)),
  create: adminProcedure
    .input(zUserCreate)
    .mutation(({ ctx, input }) => createUser(ctx.db, ctx.actor, ctx.meta, input)),
  update: adminProcedure
    .input(zUserUpdate)
    .mutation(({ ctx, input }) => updateUser(ctx.db, ctx.actor, ctx.meta, input)),
  delete: adminProcedure
    .input(z.object({ id: z.string().min(1).max(64), version: z.number().int().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await deleteUser(ctx.db, ctx.actor, ctx.meta, input);
      return { ok: true };
    }),
});

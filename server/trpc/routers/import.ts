import { applyImport, previewImport, zImportApplyInput, zImportInput } from "../../services/import/import";
import { operatorProcedure, router } from "../init";

export const importRouter = router({
  /** every line's result, the questions, the draft diff and warnings; changes nothing (POST: the text is large) */
  preview: operatorProcedure.input(zImportInput).mutation(({ ctx, input }) => previewImport(ctx.db, input)),
  /** adds the import to the draft at the previewed version, in one transaction; never publishes */
  add: operatorProcedure
    .input(zImportApplyInput)
    .mutation(({ ctx, input }) => applyImport(ctx.db, ctx.actor, ctx.meta, input)),
});

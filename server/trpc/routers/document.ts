import { planDocument, writeDocument, zDocumentInput, zDocumentWriteInput } from "../../services/import/document";
import { operatorProcedure, router } from "../init";

export const documentRouter = router({
  /** what making the draft match a YAML policy document would change (POST: documents are large) */
  plan: operatorProcedure.input(zDocumentInput).mutation(({ ctx, input }) => planDocument(ctx.db, input)),
  /** makes the draft match the document, at the planned draft version; never publishes */
  write: operatorProcedure
    .input(zDocumentWriteInput)
    .mutation(({ ctx, input }) => writeDocument(ctx.db, ctx.actor, ctx.meta, input)),
});

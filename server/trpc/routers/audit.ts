import { listAuditEvents, zAuditFilter } from "../../services/audit/list";
import { verifyAuditChain } from "../../services/audit/verify";
import { router, viewerProcedure } from "../init";

export const auditRouter = router({
  list: viewerProcedure.input(zAuditFilter).query(({ ctx, input }) => listAuditEvents(ctx.db, input)),
  /** recomputes the hash chain and names the first event that does not match */
  verify: viewerProcedure.query(({ ctx }) => verifyAuditChain(ctx.db)),
});

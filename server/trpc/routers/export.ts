import { exportPolicy, zExportInput } from "../../services/export/export";
import { router, viewerProcedure } from "../init";

export const exportRouter = router({
  /** a revision or the draft as YAML (whole policy), iptables-save, ipvsadm or keepalived text */
  policy: viewerProcedure.input(zExportInput).query(({ ctx, input }) => exportPolicy(ctx.db, input)),
});

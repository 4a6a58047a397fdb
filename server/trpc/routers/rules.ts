import { listRules, zRuleListInput } from "../../services/draft/rules";
import { router, viewerProcedure } from "../init";
import { entityProcedures } from "./entities";

export const ruleRouter = router({
  list: viewerProcedure.input(zRuleListInput).query(({ ctx, input }) => listRules(ctx.db, input)),
  ...entityProcedures("rule"),
});

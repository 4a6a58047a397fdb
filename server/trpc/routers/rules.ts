import {
  applyBulk,
  moveRule,
  previewBulk,
  previewMove,
  zBulkApplyInput,
  zBulkInput,
  zMoveInput,
} from "../../services/draft/bulk";
import { previewOrderMode, setOrderMode, zOrderModeInput, zSetOrderModeInput } from "../../services/draft/rule-order";
import { listRuleIds, listRules, zRuleListInput } from "../../services/draft/rules";
import { getRuleCounters, zRuleCountersInput } from "../../services/rule-counters/read";
import { operatorProcedure, router, viewerProcedure } from "../init";
import { entityProcedures } from "./entities";

const zRuleFilterInput = zRuleListInput.omit({ offset: true, limit: true });

export const ruleRouter = router({
  list: viewerProcedure.input(zRuleListInput).query(({ ctx, input }) => listRules(ctx.db, input)),
  /** every rule id that passes the filter: "select all that match" */
  ids: viewerProcedure.input(zRuleFilterInput).query(({ ctx, input }) => listRuleIds(ctx.db, input)),
  /**
   * What a bulk operation would change, exactly, at the draft version it returns. It changes
   * nothing, but is sent as a POST: a selection of thousands of rule ids does not fit in a URL.
   */
  bulkPreview: viewerProcedure.input(zBulkInput).mutation(({ ctx, input }) => previewBulk(ctx.db, input)),
  bulkApply: operatorProcedure
    .input(zBulkApplyInput)
    .mutation(({ ctx, input }) => applyBulk(ctx.db, ctx.actor, ctx.meta, input)),
  movePreview: viewerProcedure
    .input(zMoveInput.omit({ draftVersion: true }))
    .query(({ ctx, input }) => previewMove(ctx.db, input)),
  /** puts a rule at a place in the effective order by setting explicit priorities */
  move: operatorProcedure.input(zMoveInput).mutation(({ ctx, input }) => moveRule(ctx.db, ctx.actor, ctx.meta, input)),
  /** per rule: new connections counted on the cluster's gateways, last match, "no match since" */
  counters: viewerProcedure.input(zRuleCountersInput).query(({ ctx, input }) => getRuleCounters(ctx.db, input)),
  /** the rules whose place changes if the cluster's ordering mode becomes `mode` */
  orderModePreview: viewerProcedure.input(zOrderModeInput).query(({ ctx, input }) => previewOrderMode(ctx.db, input)),
  /** switches the cluster between "most specific first" and "the order listed" (a draft change) */
  setOrderMode: operatorProcedure
    .input(zSetOrderModeInput)
    .mutation(({ ctx, input }) => setOrderMode(ctx.db, ctx.actor, ctx.meta, input)),
  ...entityProcedures("rule"),
});

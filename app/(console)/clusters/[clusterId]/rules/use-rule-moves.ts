"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useRefreshAll } from "@/app/components/hooks";
import { useTRPC } from "@/app/lib/trpc";
import type { RuleRow } from "./use-paged-rules";

/**
 * Moving a rule in the effective order: a move that changes only its own priority happens at
 * once; one that changes others (or has problems) waits in `moving` for the plan dialog. In list
 * order the priorities are only how the list keeps its order, so a move without problems
 * happens at once whatever it renumbers.
 */
export function useRuleMoves({
  clusterId,
  listOrder,
  onStart,
  onError,
  onMoved,
}: {
  clusterId: string;
  /** the cluster's rules apply in the order listed */
  listOrder: boolean;
  /** a new move starts: earlier messages are out of date */
  onStart: () => void;
  onError: (err: unknown) => void;
  onMoved: (ruleId: string, to: number) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = useRefreshAll();
  const [moving, setMoving] = useState<{ ruleId: string; to: number } | null>(null);
  const move = useMutation(trpc.rule.move.mutationOptions({ onError }));

  function finish(ruleId: string, to: number) {
    setMoving(null);
    onMoved(ruleId, to);
  }
  /** true when the rule moved at once (not waiting for the plan dialog, not failed) */
  async function requestMove(row: Pick<RuleRow, "rule"> | { rule: { id: string } }, to: number): Promise<boolean> {
    onStart();
    try {
      const plan = await queryClient.fetchQuery({
        ...trpc.rule.movePreview.queryOptions({ clusterId, ruleId: row.rule.id, toPosition: to }),
        staleTime: 0,
      });
      if (plan.changeCount === 0) return false;
      if ((plan.changeCount === 1 || listOrder) && plan.problems.length === 0) {
        await move.mutateAsync({ clusterId, ruleId: row.rule.id, toPosition: to, draftVersion: plan.draftVersion });
        await refresh();
        finish(row.rule.id, to);
        return true;
      }
      setMoving({ ruleId: row.rule.id, to });
    } catch (err) {
      onError(err);
    }
    return false;
  }
  return { moving, pending: move.isPending, requestMove, finish, cancel: () => setMoving(null) };
}

"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRefreshAll } from "@/app/components/hooks";
import { useTRPC } from "@/app/lib/trpc";
import { PlanDialog } from "./plan-dialog";
import { rulePlace } from "@/core/policy/rule-name";
import { n } from "./rule-filters";

/** The plan of a move that changes other rules' priorities too, applied at the draft version it was made at. */
export function MoveDialog({
  clusterId,
  ruleId,
  toPosition,
  onClose,
  onDone,
}: {
  clusterId: string;
  ruleId: string;
  toPosition: number;
  onClose: () => void;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const preview = useQuery(trpc.rule.movePreview.queryOptions({ clusterId, ruleId, toPosition }, { staleTime: 0 }));
  const move = useMutation(
    trpc.rule.move.mutationOptions({
      onSuccess: async () => {
        await refresh();
        onDone();
      },
    }),
  );
  return (
    <PlanDialog
      title={`Move the rule to ${rulePlace(toPosition)}`}
      preview={preview.data}
      loading={preview.isPending}
      error={preview.error}
      applying={move.isPending}
      applyError={move.error}
      applyLabel={(count) => `Move (changes ${n(count)} priorit${count === 1 ? "y" : "ies"})`}
      onApply={(draftVersion) => move.mutate({ clusterId, ruleId, toPosition, draftVersion })}
      onClose={onClose}
    />
  );
}

"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect } from "react";
import { useRefreshAll } from "@/app/components/hooks";
import { useTRPC } from "@/app/lib/trpc";
import type { BulkOperation } from "@/core/policy/bulk-plan";
import { PlanDialog } from "./plan-dialog";
import { n } from "./rule-filters";

/** How the page reports a bulk change that was made: "Disabled 3 rules in the draft." */
export const DONE_WORDS: Record<BulkOperation["op"], string> = {
  enable: "Enabled",
  disable: "Disabled",
  delete: "Deleted",
  setPool: "Changed the pool of",
  setAlgorithm: "Changed the algorithm of",
};

const OP_WORDS: Record<BulkOperation["op"], string> = {
  enable: "Enable",
  disable: "Disable",
  delete: "Delete",
  setPool: "Change the pool of",
  setAlgorithm: "Change the algorithm of",
};

/** The plan of one bulk operation on the selected rules, applied at the draft version it was made at. */
export function BulkDialog({
  clusterId,
  ruleIds,
  operation,
  onClose,
  onDone,
}: {
  clusterId: string;
  ruleIds: string[];
  operation: BulkOperation;
  onClose: () => void;
  onDone: (changed: number) => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const preview = useMutation(trpc.rule.bulkPreview.mutationOptions());
  const apply = useMutation(
    trpc.rule.bulkApply.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        onDone(r.changed);
      },
    }),
  );
  const { mutate } = preview;
  useEffect(() => {
    mutate({ clusterId, ruleIds, operation });
  }, [mutate, clusterId, ruleIds, operation]);
  const verb = OP_WORDS[operation.op];
  return (
    <PlanDialog
      title={`${verb} ${n(ruleIds.length)} selected rule${ruleIds.length === 1 ? "" : "s"}`}
      preview={preview.data}
      loading={preview.isPending}
      error={preview.error}
      applying={apply.isPending}
      applyError={apply.error}
      applyLabel={(count) => `${verb} ${n(count)} rule${count === 1 ? "" : "s"}`}
      onApply={(draftVersion) => apply.mutate({ clusterId, ruleIds, operation, draftVersion })}
      onClose={onClose}
    />
  );
}

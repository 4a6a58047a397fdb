"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { useTRPC } from "@/app/lib/trpc";
import type { RuleListQuery } from "./rule-filters";

/** The rules picked for a bulk action, by id: one by one, or every rule that matches the filters. */
export function useRuleSelection(query: RuleListQuery, onError: (err: unknown) => void) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (id: string) =>
      setSelected((old) => {
        const next = new Set(old);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const clear = useCallback(() => setSelected(new Set()), []);
  async function selectAllMatching() {
    try {
      const r = await queryClient.fetchQuery(trpc.rule.ids.queryOptions(query));
      setSelected(new Set(r.ids));
    } catch (err) {
      onError(err);
    }
  }
  return { selected, toggle, clear, selectAllMatching };
}

export type RuleSelection = ReturnType<typeof useRuleSelection>;

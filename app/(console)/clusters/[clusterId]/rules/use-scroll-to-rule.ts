"use client";

import { useCallback, useEffect, useState } from "react";
import type { PagedRules } from "./use-paged-rules";

/**
 * Brings a row into view once the rows of the current filter have loaded, and highlights a rule
 * for a moment (`flash`), e.g. the one just moved or the one a warning is about.
 */
export function useScrollToRule(paged: PagedRules) {
  const { first, total, virtualizer } = paged;
  const [flash, setFlash] = useState<string | null>(null);
  const [pendingScroll, setPendingScroll] = useState<{ index: number; ruleId: string | null } | null>(null);

  useEffect(() => {
    if (pendingScroll === null || first.isPlaceholderData || !first.data) return;
    if (pendingScroll.index < total) {
      virtualizer.scrollToIndex(pendingScroll.index, { align: "center" });
      if (pendingScroll.ruleId) setFlash(pendingScroll.ruleId);
    }
    setPendingScroll(null);
  }, [pendingScroll, first.isPlaceholderData, first.data, total, virtualizer]);
  useEffect(() => {
    if (flash === null) return;
    const t = setTimeout(() => setFlash(null), 2500);
    return () => clearTimeout(t);
  }, [flash]);

  const scrollTo = useCallback((index: number, ruleId: string | null) => setPendingScroll({ index, ruleId }), []);
  return { flash, highlight: setFlash, scrollTo };
}

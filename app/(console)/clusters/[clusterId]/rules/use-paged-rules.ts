"use client";

import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef } from "react";
import { useTRPC } from "@/app/lib/trpc";
import type { Rule } from "@/core/policy/model";
import type { RuleListQuery } from "./rule-filters";

/** Rows per request: a screen and a half; more pages load as the table scrolls. */
const PAGE = 100;
const ROW_HEIGHT = 36;
export const HEADER_HEIGHT = 36;

/**
 * One row of the rules table: the rule, where it is in the effective order, its version for
 * edits, and where its traffic goes on failover (absent in rows made in the browser).
 */
export type RuleRow = { rule: Rule; position: number; version: number; failover?: string };

/**
 * The rules matching `query`, loaded a page at a time for the rows on screen of a virtual
 * table: only the visible rows (and a few around them) exist, spacers stand for the rest.
 * The table goes back to the top whenever the query changes.
 */
export function usePagedRules(query: RuleListQuery) {
  const trpc = useTRPC();
  const first = useQuery({
    ...trpc.rule.list.queryOptions({ ...query, offset: 0, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  const total = first.data?.total ?? 0;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // the sticky header scrolls with the rows: rows start below it, and scrolling to one keeps it visible
    paddingStart: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();
  // the rows above and below the rendered ones, as the height of one spacer row each
  const padTop = items.length > 0 ? (items[0]?.start ?? 0) - HEADER_HEIGHT : 0;
  const padBottom = items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items[items.length - 1]?.index ?? 0;
  const pageNums: number[] = [];
  for (let p = Math.floor(firstIndex / PAGE); p <= Math.floor(lastIndex / PAGE); p++) if (p > 0) pageNums.push(p);
  const pages = useQueries({
    queries: pageNums.map((p) => trpc.rule.list.queryOptions({ ...query, offset: p * PAGE, limit: PAGE })),
  });
  const rowAt = (i: number): RuleRow | undefined => {
    const p = Math.floor(i / PAGE);
    const data = p === 0 ? first.data : pages[pageNums.indexOf(p)]?.data;
    return data?.rules[i - p * PAGE];
  };

  // back to the top whenever the filter changes
  const queryKey = JSON.stringify(query);
  const lastKey = useRef(queryKey);
  useEffect(() => {
    if (lastKey.current !== queryKey) {
      lastKey.current = queryKey;
      virtualizer.scrollToOffset(0);
    }
  }, [queryKey, virtualizer]);

  return {
    first,
    /** rules matching the filters */
    total,
    /** rules in the draft */
    count: first.data?.count ?? 0,
    /** showing the previous filter's rows while the new ones load */
    updating: first.isFetching && first.isPlaceholderData,
    scrollRef,
    virtualizer,
    items,
    padTop,
    padBottom,
    rowAt,
  };
}

export type PagedRules = ReturnType<typeof usePagedRules>;

"use client";

import { useMemo, useState } from "react";

export interface SortState<K extends string> {
  key: K;
  descending: boolean;
}

/** Sorting and text search for the small tables (ISPs, pools, zones), all in the browser. */
export function useSortedRows<T, K extends string>(
  rows: readonly T[],
  initial: K,
  value: (row: T, key: K) => string | number,
  text: (row: T) => string,
  search: string,
  keep: (row: T) => boolean = () => true,
) {
  const [sort, setSort] = useState<SortState<K>>({ key: initial, descending: false });
  const sorted = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const out = rows.filter((r) => keep(r) && (needle === "" || text(r).toLowerCase().includes(needle)));
    out.sort((a, b) => {
      const x = value(a, sort.key);
      const y = value(b, sort.key);
      const c =
        typeof x === "number" && typeof y === "number"
          ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
      return sort.descending ? -c : c;
    });
    return out;
  }, [rows, sort, search, value, text, keep]);
  return { sorted, sort, setSort };
}

/** A column header that sorts by its column; a second click reverses the order. */
export function SortHeader<K extends string>({
  label,
  column,
  sort,
  onSort,
  className,
}: {
  label: string;
  column: K;
  sort: SortState<K>;
  onSort: (s: SortState<K>) => void;
  className?: string;
}) {
  const active = sort.key === column;
  return (
    <th aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"} className={className}>
      <button
        type="button"
        className="sort"
        onClick={() => onSort({ key: column, descending: active ? !sort.descending : false })}
      >
        {label} {active ? (sort.descending ? "▼" : "▲") : ""}
      </button>
    </th>
  );
}

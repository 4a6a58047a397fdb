"use client";

import type { Dispatch, RefObject, SetStateAction } from "react";
import { FilterCheck, FilterSelect, NameOptions, SearchControl } from "@/app/components/toolbar";
import { PROTOCOLS } from "@/core/policy/model";
import { NO_FILTERS, type RuleFilters } from "./rule-filters";

type Named = readonly { entity: { id: string; name: string } }[] | undefined;

/** Search, the filters and the order of the rules table, and a way back to all rules. */
export function RulesToolbar({
  filters,
  setFilters,
  filtered,
  isps,
  pools,
  zones,
  searchRef,
}: {
  filters: RuleFilters;
  setFilters: Dispatch<SetStateAction<RuleFilters>>;
  /** whether anything narrows or reorders the table */
  filtered: boolean;
  isps: Named;
  pools: Named;
  zones: Named;
  searchRef: RefObject<HTMLInputElement | null>;
}) {
  const setFilter = <K extends keyof RuleFilters>(k: K, v: RuleFilters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  return (
    <section className="toolbar" aria-label="Filter rules">
      <SearchControl
        id="rules-search"
        placeholder="network, zone, pool, ISP, comment, #seq"
        value={filters.search}
        onChange={(v) => setFilter("search", v)}
        shortcut="/"
        inputRef={searchRef}
      />
      <FilterSelect
        id="rules-enabled"
        label="State"
        value={filters.enabled}
        onChange={(v) => setFilter("enabled", v as RuleFilters["enabled"])}
      >
        <option value="">all</option>
        <option value="on">enabled</option>
        <option value="off">disabled</option>
      </FilterSelect>
      <FilterSelect
        id="rules-action"
        label="Action"
        value={filters.action}
        onChange={(v) => setFilter("action", v as RuleFilters["action"])}
      >
        <option value="">any</option>
        <option value="snat">SNAT</option>
        <option value="exclude">no NAT</option>
        <option value="drop">drop</option>
      </FilterSelect>
      <FilterSelect
        id="rules-egress"
        label="Egress ISP"
        value={filters.egressIspId}
        onChange={(v) => setFilter("egressIspId", v)}
      >
        <option value="">any</option>
        <NameOptions items={isps} />
      </FilterSelect>
      <FilterSelect id="rules-pool" label="Pool" value={filters.poolId} onChange={(v) => setFilter("poolId", v)}>
        <option value="">any</option>
        <NameOptions items={pools} />
      </FilterSelect>
      <FilterSelect id="rules-zone" label="Zone" value={filters.zoneId} onChange={(v) => setFilter("zoneId", v)}>
        <option value="">any</option>
        <NameOptions items={zones} />
      </FilterSelect>
      <FilterSelect
        id="rules-protocol"
        label="Protocol"
        value={filters.protocol}
        onChange={(v) => setFilter("protocol", v)}
      >
        <option value="">any</option>
        {PROTOCOLS.filter((p) => p !== "any").map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
        <option value="any">only "any"</option>
      </FilterSelect>
      <FilterSelect
        id="rules-order"
        label="Order"
        value={`${filters.sort}${filters.descending ? "-desc" : ""}`}
        onChange={(v) => {
          const [sort, desc] = v.split("-");
          setFilters((f) => ({ ...f, sort: sort as RuleFilters["sort"], descending: desc === "desc" }));
        }}
      >
        <option value="position">effective, first to last</option>
        <option value="position-desc">effective, last to first</option>
        <option value="seq">creation, oldest first</option>
        <option value="seq-desc">creation, newest first</option>
      </FilterSelect>
      <FilterCheck
        id="rules-warned"
        label="with warnings"
        checked={filters.warnings}
        onChange={(v) => setFilter("warnings", v)}
      />
      {filtered && (
        <button type="button" onClick={() => setFilters(NO_FILTERS)} style={{ marginBottom: 1 }}>
          Clear filters
        </button>
      )}
    </section>
  );
}

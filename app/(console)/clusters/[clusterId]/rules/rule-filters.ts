import type { PROTOCOLS } from "@/core/policy/model";

/** What the rules toolbar narrows and orders the table by. */
export interface RuleFilters {
  search: string;
  enabled: "" | "on" | "off";
  action: "" | "snat" | "exclude" | "drop";
  egressIspId: string;
  poolId: string;
  zoneId: string;
  protocol: string;
  warnings: boolean;
  sort: "position" | "seq";
  descending: boolean;
}

export const NO_FILTERS: RuleFilters = {
  search: "",
  enabled: "",
  action: "",
  egressIspId: "",
  poolId: "",
  zoneId: "",
  protocol: "",
  warnings: false,
  sort: "position",
  descending: false,
};

/** Whether the table shows every rule in effective order. */
export const isDefault = (f: RuleFilters) => JSON.stringify(f) === JSON.stringify(NO_FILTERS);

/** The `rule.list` input for the filters, with `search` as already debounced. */
export function ruleListQuery(clusterId: string, filters: RuleFilters, search: string) {
  return {
    clusterId,
    search,
    enabled: filters.enabled === "" ? undefined : filters.enabled === "on",
    action: filters.action === "" ? undefined : filters.action,
    egressIspId: filters.egressIspId || undefined,
    poolId: filters.poolId || undefined,
    zoneId: filters.zoneId || undefined,
    protocol: (filters.protocol || undefined) as (typeof PROTOCOLS)[number] | undefined,
    warnings: filters.warnings || undefined,
    sort: filters.sort,
    descending: filters.descending,
  };
}

export type RuleListQuery = ReturnType<typeof ruleListQuery>;

/** Thousands with commas, as every count on the page is shown. */
export const n = (x: number) => x.toLocaleString("en-US");

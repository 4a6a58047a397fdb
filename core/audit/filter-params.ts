/**
 * The audit filter as URL query parameters: the timeline keeps its filter in the page address
 * (so a filtered view can be shared) and the export link carries the same parameters. Pure, so
 * the browser and the export route read them the same way; the server still validates the
 * result with zAuditFilter.
 */

export const TEXT_KEYS = ["clusterId", "actor", "actorType", "action", "targetType", "targetId", "q"] as const;
export type TextKey = (typeof TEXT_KEYS)[number];

export interface FilterValues {
  clusterId?: string;
  actor?: string;
  actorType?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  q?: string;
  from?: Date;
  to?: Date;
}

/** Parameters that are not valid dates are reported, not silently dropped. */
export function filterFromParams(params: URLSearchParams): { filter: FilterValues; invalid: string[] } {
  const filter: FilterValues = {};
  const invalid: string[] = [];
  for (const key of TEXT_KEYS) {
    const v = params.get(key);
    if (v !== null && v.trim() !== "") filter[key] = v;
  }
  for (const key of ["from", "to"] as const) {
    const v = params.get(key);
    if (v === null || v.trim() === "") continue;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) invalid.push(key);
    else filter[key] = d;
  }
  return { filter, invalid };
}

export function filterToParams(filter: FilterValues): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of TEXT_KEYS) {
    const v = filter[key];
    if (v !== undefined && v.trim() !== "") params.set(key, v);
  }
  if (filter.from !== undefined) params.set("from", filter.from.toISOString());
  if (filter.to !== undefined) params.set("to", filter.to.toISOString());
  return params;
}

"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useTRPC } from "../lib/trpc";

/** Whether the signed-in user may edit (operator or admin). */
export function useCanEdit(): boolean {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  return me.data?.role === "operator" || me.data?.role === "admin";
}

/** The cluster's ISPs, pools and zones (few per cluster), and their names by id. */
export function useClusterEntities(clusterId: string) {
  const trpc = useTRPC();
  const isps = useQuery(trpc.isp.list.queryOptions({ clusterId }));
  const pools = useQuery(trpc.pool.list.queryOptions({ clusterId }));
  const zones = useQuery(trpc.zone.list.queryOptions({ clusterId }));
  const names = useMemo(() => {
    const m = new Map<string, string>();
    for (const x of [...(isps.data ?? []), ...(pools.data ?? []), ...(zones.data ?? [])])
      m.set(x.entity.id, x.entity.name);
    return m;
  }, [isps.data, pools.data, zones.data]);
  return { isps, pools, zones, names };
}

/** After any draft change every cluster query may be stale: lists, warnings, the banner, the rules. */
export function useRefreshAll() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries();
}

/** `value` once it has stayed the same for `ms`: typing does not ask the server at every key. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

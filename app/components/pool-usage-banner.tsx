"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc";

/**
 * Shown on every page of a cluster while a pool address is at the warning or alert level of port
 * usage, in words: which pool, address and gateway, how full, toward which destination.
 */
export function PoolUsageBanner({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.poolUsage.list.queryOptions({ clusterId }, { refetchInterval: 5_000 }));
  const incidents = q.data?.incidents ?? [];
  if (incidents.length === 0) return null;
  const alert = incidents.some((i) => i.level === "alert");
  return (
    <div
      className={alert ? "banner error" : "banner warn"}
      role={alert ? "alert" : "status"}
      aria-label="Port usage incidents"
    >
      {incidents.map((i) => (
        <div key={i.key}>{i.text}</div>
      ))}
    </div>
  );
}

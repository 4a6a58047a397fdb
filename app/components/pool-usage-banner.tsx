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
  const lines = incidents.map((i) => <div key={i.key}>{i.text}</div>);
  // an alert interrupts; a warning is announced politely
  return incidents.some((i) => i.level === "alert") ? (
    <div className="banner error" role="alert" aria-label="Port usage incidents">
      {lines}
    </div>
  ) : (
    <div className="banner warn" role="status" aria-label="Port usage incidents">
      {lines}
    </div>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import { describeHaIncident } from "@/core/health/ha-incidents";
import { useTRPC } from "../lib/trpc";

/**
 * Shown on every page of a cluster while its gateways' reports show split brain (two masters of
 * one VRRP group) or a group with no healthy backup, naming the gateways and the group.
 */
export function HaIncidentBanner({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const incidents = useQuery(trpc.gateway.haIncidents.queryOptions({ clusterId }, { refetchInterval: 3_000 }));
  const list = incidents.data ?? [];
  if (list.length === 0) return null;
  return (
    <div className="banner error" role="alert" aria-label="High-availability incidents">
      {list.map((i) => (
        <div key={i.key}>{describeHaIncident(i, (id) => i.gatewayNames[i.gatewayIds.indexOf(id)] ?? id)}</div>
      ))}
    </div>
  );
}

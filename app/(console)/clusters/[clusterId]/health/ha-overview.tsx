"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { HaRole } from "../gateways/ha-role";

const REFRESH_MS = 3_000;

/**
 * Each gateway's VRRP role and keepalived and conntrackd state, refreshed as the Gateways page
 * refreshes; shown once the cluster has high availability or a gateway reports VRRP.
 */
export function HaOverview({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const list = useQuery({ ...trpc.gateway.list.queryOptions({ clusterId }), refetchInterval: REFRESH_MS });
  if (list.error) return <div className="banner error">{errorMessage(list.error)}</div>;
  const gateways = list.data?.gateways ?? [];
  const mode = cluster.data?.settings.ha.mode ?? "none";
  if (mode === "none" && !gateways.some((g) => g.ha !== null || g.drained)) return null;
  return (
    <section className="card" style={{ marginTop: 16 }} aria-labelledby="ha-overview-heading">
      <h2 id="ha-overview-heading" style={{ marginTop: 0 }}>
        High availability
      </h2>
      <table className="data" aria-label="VRRP roles">
        <thead>
          <tr>
            <th>Gateway</th>
            <th>Role per VRRP group, keepalived and conntrackd</th>
          </tr>
        </thead>
        <tbody>
          {gateways.map((g) => (
            <tr key={g.id}>
              <td>
                <Link href={`/clusters/${clusterId}/gateways/${g.id}`}>{g.name}</Link>
              </td>
              <td>
                <HaRole ha={g.ha} drained={g.drained} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { AddGatewayDialog } from "./add-gateway-dialog";
import { AgentUpgrades } from "./agent-upgrades";
import { type GatewayAction, GatewayActionDialog } from "./gateway-action-dialog";
import { GatewaysTable } from "./gateways-table";
import { RecentJobs } from "./recent-jobs";

const REFRESH_MS = 3_000;

export default function GatewaysPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery({ ...trpc.gateway.list.queryOptions({ clusterId }), refetchInterval: REFRESH_MS });
  const [adding, setAdding] = useState(false);
  const [action, setAction] = useState<GatewayAction | null>(null);
  const isAdmin = me.data?.role === "admin";

  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Gateways</h1>
        {list.data && (
          <span className="muted small">
            published revision {list.data.published.revision === 0 ? "none yet" : `#${list.data.published.revision}`},
            failover epoch {list.data.published.failoverEpoch}
          </span>
        )}
        <div className="spacer" />
        {list.isFetching && !list.isPending && <span className="muted small">refreshing…</span>}
        {isAdmin && (
          <Link className="button" href={`/clusters/${clusterId}/gateways/add-ssh`}>
            Add over SSH
          </Link>
        )}
        {isAdmin && (
          <button className="primary" type="button" onClick={() => setAdding(true)}>
            Add gateway
          </button>
        )}
      </div>
      {adding && <AddGatewayDialog clusterId={clusterId} onClose={() => setAdding(false)} />}
      {action && <GatewayActionDialog action={action} clusterId={clusterId} onClose={() => setAction(null)} />}

      {list.isPending && <div className="loading">Loading gateways…</div>}
      {list.error && (
        <div className="banner error" role="alert">
          {errorMessage(list.error)}
          {list.data ? " (showing the last known state)" : ""}
        </div>
      )}
      {list.data?.gateways.length === 0 && (
        <div className="card empty">
          No gateways in this cluster yet.{" "}
          {isAdmin ? "Add one to get the command that enrolls its agent." : "An admin can add one."}
        </div>
      )}
      {list.data && list.data.gateways.length > 0 && (
        <>
          <GatewaysTable clusterId={clusterId} list={list.data} isAdmin={isAdmin} onAction={setAction} />
          <AgentUpgrades clusterId={clusterId} isAdmin={isAdmin} gateways={list.data.gateways} />
        </>
      )}
      <RecentJobs clusterId={clusterId} />
      {list.data && (
        <p className="muted small">
          Agents report every {list.data.heartbeatSeconds} s; a gateway not heard from for{" "}
          {list.data.offlineAfterSeconds} s is shown offline. Offline gateways keep enforcing the rules they last
          applied.
        </p>
      )}
    </>
  );
}

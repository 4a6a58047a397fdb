"use client";

import Link from "next/link";
import { useParams } from "next/navigation";
import { Suspense } from "react";
import { AuditTimeline } from "../../../audit/timeline";

export default function ClusterHistoryPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>History</h1>
        <div className="spacer" />
        <Link href={`/clusters/${clusterId}/revisions`}>Revisions and rollout</Link>
      </div>
      <p className="muted small" style={{ marginTop: 0 }}>
        Everything that happened to this cluster: edits, publishes, reverts, failovers and failbacks, gateway
        enrollments and what each gateway applied.
      </p>
      <Suspense fallback={<div className="loading">Loading events…</div>}>
        <AuditTimeline clusterId={clusterId} />
      </Suspense>
    </>
  );
}

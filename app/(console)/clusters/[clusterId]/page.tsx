"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { errorMessage } from "../../../lib/errors";
import { useTRPC } from "../../../lib/trpc";

export default function ClusterOverviewPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const status = useQuery(trpc.draft.status.queryOptions({ clusterId }));

  if (cluster.isPending) return <div className="loading">Loading cluster…</div>;
  if (cluster.error) return <div className="banner error">{errorMessage(cluster.error)}</div>;
  const c = cluster.data;
  return (
    <>
      <h1>{c.name}</h1>
      {status.data?.dirty && (
        <div className="banner warn" role="status">
          The draft has unpublished changes ({status.data.diff.summary.total} change
          {status.data.diff.summary.total === 1 ? "" : "s"}).
        </div>
      )}
      <div className="grid">
        <div className="card">
          <div className="muted small">Published revision</div>
          <div style={{ fontSize: 22 }}>{c.publishedRevision === 0 ? "none" : `#${c.publishedRevision}`}</div>
        </div>
        <div className="card">
          <div className="muted small">Traffic that matches no rule</div>
          <div style={{ fontSize: 22 }}>{c.settings.unmatched === "drop" ? "dropped" : "forwarded un-NATed"}</div>
        </div>
        <div className="card">
          <div className="muted small">Description</div>
          <div>{c.description || <span className="muted">none</span>}</div>
        </div>
      </div>
    </>
  );
}

"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { errorMessage } from "../../../lib/errors";
import { useTRPC } from "../../../lib/trpc";
import { DEFAULT_IP_RULE_PRIORITY_BASE, IP_RULE_PRIORITY_SPAN } from "../../../../core/spec/marks";

function Stat({ label, children, href }: { label: string; children: React.ReactNode; href?: string }) {
  return (
    <div className="card">
      <div className="muted small">{label}</div>
      <div style={{ fontSize: 22 }}>{children}</div>
      {href && (
        <Link className="small" href={href}>
          Open
        </Link>
      )}
    </div>
  );
}

export default function ClusterOverviewPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const cluster = useQuery(trpc.cluster.get.queryOptions({ id: clusterId }));
  const clusters = useQuery(trpc.cluster.list.queryOptions());
  const draft = useQuery(trpc.draft.summary.queryOptions({ clusterId }));

  if (cluster.isPending) return <div className="loading">Loading cluster…</div>;
  if (cluster.error) return <div className="banner error">{errorMessage(cluster.error)}</div>;
  const c = cluster.data;
  const counts = clusters.data?.find((x) => x.id === clusterId)?.counts;
  const base = `/clusters/${clusterId}`;
  return (
    <>
      <h1>{c.name}</h1>
      {c.description && <p className="muted">{c.description}</p>}
      <div className="grid">
        <Stat label="Published revision" href={`${base}/revisions`}>
          {c.publishedRevision === 0 ? "none yet" : `#${c.publishedRevision}`}
        </Stat>
        <Stat label="Unpublished draft changes" href={`${base}/changes`}>
          {draft.data ? draft.data.summary.total : "…"}
        </Stat>
        <Stat label="Rules" href={`${base}/rules`}>
          {counts?.rules ?? "…"}
        </Stat>
        <Stat label="ISPs" href={`${base}/isps`}>
          {counts?.isps ?? "…"}
        </Stat>
        <Stat label="Gateways" href={`${base}/gateways`}>
          {counts?.gateways ?? "…"}
        </Stat>
        <Stat label="Traffic that matches no rule">
          {c.settings.unmatched === "drop" ? "dropped" : "forwarded un-NATed"}
        </Stat>
        <Stat label="Gatehouse's ip rule priorities">
          {`${(c.settings.ipRulePriorityBase ?? DEFAULT_IP_RULE_PRIORITY_BASE) + 1}-${(c.settings.ipRulePriorityBase ?? DEFAULT_IP_RULE_PRIORITY_BASE) + IP_RULE_PRIORITY_SPAN}`}
        </Stat>
        <Stat label="LAN interfaces (others but ISPs' and internal ones are guarded)" href={`${base}/settings`}>
          {c.settings.lanInterfaces.length === 0
            ? "not named: no guard on other uplinks"
            : `${c.settings.lanInterfaces.join(", ")}${
                c.settings.internalInterfaces.length > 0
                  ? `; internal: ${c.settings.internalInterfaces.join(", ")}`
                  : ""
              }`}
        </Stat>
      </div>
    </>
  );
}

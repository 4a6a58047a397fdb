"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { errorMessage } from "../../../lib/errors";
import { useTRPC } from "../../../lib/trpc";
import { firstSteps, nextStep } from "./first-steps";
import { ClusterTopology } from "./topology";
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

/** What is left to set up, with the next step first and a link to its page; nothing once done. */
function FirstStepsGuide({ base, progress }: { base: string; progress: Parameters<typeof firstSteps>[0] }) {
  const next = nextStep(progress);
  if (next === null) return null;
  return (
    <section className="card" aria-label="Setting up this cluster" style={{ marginBottom: 16 }}>
      <h2 style={{ marginTop: 0 }}>
        Next step: <Link href={`${base}/${next.page}`}>{next.title}</Link>
      </h2>
      <p className="muted">{next.why}.</p>
      <ol className="small">
        {firstSteps(progress).map((s) => (
          <li key={s.key} aria-current={s.key === next.key ? "step" : undefined}>
            {s.done ? <s>{s.title}</s> : s.key === next.key ? <strong>{s.title}</strong> : s.title}
            {s.done && <span className="muted"> (done)</span>}
          </li>
        ))}
      </ol>
    </section>
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
      {counts && <FirstStepsGuide base={base} progress={{ ...counts, publishedRevision: c.publishedRevision }} />}
      <section aria-label="Cluster picture">
        <ClusterTopology clusterId={clusterId} />
      </section>
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

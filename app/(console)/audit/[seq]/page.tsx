"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import type { AuditEventDetail, RelatedRevision } from "@/server/services/audit/event";
import { errorMessage } from "../../../lib/errors";
import { useTRPC } from "../../../lib/trpc";
import { describeEvent } from "../describe";
import { Actor, relative, Value, When } from "../ui";

const CHANGE_WORDS = { added: "added", removed: "removed", changed: "changed", same: "" } as const;

function RevisionLink({ clusterId, related }: { clusterId: string | null; related: RelatedRevision }) {
  if (related === null || clusterId === null) return <span className="muted">none</span>;
  const revisions = `/clusters/${clusterId}/revisions`;
  switch (related.kind) {
    case "is":
      return (
        <Link href={`${revisions}?from=${Math.max(0, related.revision - 1)}&to=${related.revision}`}>
          revision {related.revision}
        </Link>
      );
    case "published":
      return (
        <>
          shipped in{" "}
          <Link href={`${revisions}?from=${Math.max(0, related.revision - 1)}&to=${related.revision}`}>
            revision {related.revision}
          </Link>{" "}
          (<Link href={`/audit/${related.seq}`}>published in event #{related.seq}</Link>)
        </>
      );
    case "discarded":
      return (
        <>
          never published: the draft was replaced by{" "}
          <Link href={`/audit/${related.seq}`}>
            {related.action === "cluster.revert" ? "a revert" : "a discard"} (event #{related.seq})
          </Link>
        </>
      );
    case "draft":
      return (
        <>
          not published yet: it is in the <Link href={`/clusters/${clusterId}/changes`}>draft</Link>
        </>
      );
  }
}

function Changes({ detail }: { detail: AuditEventDetail }) {
  const [showAll, setShowAll] = useState(false);
  const changed = detail.changes.filter((c) => c.change !== "same");
  const rows = showAll ? detail.changes : changed;
  const unchanged = detail.changes.length - changed.length;
  if (detail.changes.length === 0) return <p className="muted">This event records no before or after.</p>;
  const creation = detail.event.before === null;
  const deletion = detail.event.after === null;
  return (
    <>
      <table className="data" aria-label="Changes">
        <thead>
          <tr>
            <th>Field</th>
            {!creation && <th>Before</th>}
            {!deletion && <th>After</th>}
            <th>
              <span className="sr-only">Change</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.path || "value"} className={c.change === "same" ? undefined : `hx-${c.change}`}>
              <td>
                {c.label}
                {c.label !== c.path && c.path && <div className="muted small mono">{c.path}</div>}
              </td>
              {!creation && (
                <td>
                  <Value value={c.before} names={detail.names} />
                </td>
              )}
              {!deletion && (
                <td>
                  <Value value={c.after} names={detail.names} />
                </td>
              )}
              <td className="small muted">{CHANGE_WORDS[c.change]}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {unchanged > 0 && !creation && !deletion && (
        <button type="button" className="link" onClick={() => setShowAll((s) => !s)}>
          {showAll
            ? "Show only the changed fields"
            : `Show the ${unchanged} unchanged field${unchanged === 1 ? "" : "s"} too`}
        </button>
      )}
    </>
  );
}

export default function AuditEventPage() {
  const { seq: raw } = useParams<{ seq: string }>();
  const seq = /^\d{1,15}$/.test(raw) ? Number(raw) : null;
  const trpc = useTRPC();
  const detail = useQuery(trpc.audit.get.queryOptions({ seq: seq ?? 0 }, { enabled: seq !== null && seq > 0 }));

  if (seq === null || seq < 1) return <div className="banner error">“{raw}” is not an event number.</div>;
  if (detail.isPending) return <div className="loading">Loading event #{seq}…</div>;
  if (detail.error) {
    return (
      <>
        <div className="banner error" role="alert">
          {errorMessage(detail.error)}
        </div>
        <Link href="/audit">Back to the audit log</Link>
      </>
    );
  }
  const d = detail.data;
  const e = d.event;
  const entityHref =
    e.targetType && e.targetId
      ? `${e.clusterId ? `/clusters/${e.clusterId}/history` : "/audit"}?${new URLSearchParams({
          targetType: e.targetType,
          targetId: e.targetId,
        }).toString()}`
      : null;
  return (
    <>
      <div className="row" style={{ marginBottom: 8 }}>
        <Link href={e.clusterId ? `/clusters/${e.clusterId}/history` : "/audit"}>
          ← {e.clusterId ? "Cluster history" : "Audit log"}
        </Link>
        <div className="spacer" />
        {d.previousSeq !== null && <Link href={`/audit/${d.previousSeq}`}>← #{d.previousSeq}</Link>}
        {d.nextSeq !== null && <Link href={`/audit/${d.nextSeq}`}>#{d.nextSeq} →</Link>}
      </div>
      <h1>
        Event #{e.seq}: <span className="mono">{e.action}</span>
      </h1>
      <p style={{ fontSize: 15, marginTop: 0 }}>{describeEvent(e)}</p>

      <div className="hx-grid2">
        <div className="card">
          <dl className="hx-kv" style={{ margin: 0 }}>
            <dt>When</dt>
            <dd>
              <When at={e.at} /> <span className="muted small">({relative(e.at)})</span>
            </dd>
            <dt>Who</dt>
            <dd>
              <Actor name={e.actorName} type={e.actorType} />
              {e.actorId && <span className="muted small mono"> {e.actorId}</span>}
            </dd>
            <dt>Client address</dt>
            <dd className="mono">{e.ip || <span className="hx-none">none (inside the console)</span>}</dd>
            <dt>User agent</dt>
            <dd className="small">{e.userAgent || <span className="hx-none">none</span>}</dd>
            <dt>Request</dt>
            <dd className="mono small">{e.requestId || <span className="hx-none">none</span>}</dd>
          </dl>
        </div>
        <div className="card">
          <dl className="hx-kv" style={{ margin: 0 }}>
            <dt>Cluster</dt>
            <dd>
              {e.clusterId === null ? (
                <span className="hx-none">none</span>
              ) : e.clusterName ? (
                <Link href={`/clusters/${e.clusterId}`}>{e.clusterName}</Link>
              ) : (
                <span className="mono small">{e.clusterId} (deleted)</span>
              )}
            </dd>
            <dt>Target</dt>
            <dd>
              {e.targetType || <span className="hx-none">none</span>} <span className="mono small">{e.targetId}</span>
              {d.names[e.targetId] && <span className="muted"> ({d.names[e.targetId]})</span>}
              {entityHref && (
                <div className="small">
                  <Link href={entityHref}>Every event of this {e.targetType}</Link>
                </div>
              )}
            </dd>
            <dt>Revision</dt>
            <dd>
              <RevisionLink clusterId={e.clusterId} related={d.related} />
            </dd>
            <dt>Integrity</dt>
            <dd>
              {d.integrity.hashOk ? (
                <span className="badge ok">hash matches its contents</span>
              ) : e.at === null ? (
                <span className="badge danger" role="alert">
                  unreadable: {d.integrity.problem}
                </span>
              ) : (
                <>
                  <span className="badge danger">altered: its hash does not match its contents</span>
                  {d.integrity.problem && <div className="small">This event {d.integrity.problem}.</div>}
                </>
              )}{" "}
              {!d.integrity.keyed && (
                <span className="badge" title="written before the audit chain was keyed; checked without the key">
                  unkeyed
                </span>
              )}{" "}
              {d.integrity.linkOk === false && (
                <span className="badge danger">does not link to the event before it</span>
              )}
              {d.integrity.linkOk === true && <span className="badge ok">linked to the event before</span>}
              <div className="mono small muted" title={d.integrity.hash}>
                {d.integrity.hash.slice(0, 16)}…
              </div>
            </dd>
          </dl>
        </div>
      </div>

      <h2>Before and after</h2>
      <Changes detail={d} />
    </>
  );
}

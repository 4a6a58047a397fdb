"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../lib/errors";
import { useTRPC } from "../../lib/trpc";

function ChainStatus() {
  const trpc = useTRPC();
  const verify = useQuery({ ...trpc.audit.verify.queryOptions(), enabled: false });
  return (
    <div className="row">
      <button type="button" onClick={() => verify.refetch()} disabled={verify.isFetching}>
        {verify.isFetching ? "Verifying…" : "Verify integrity"}
      </button>
      {verify.error && <span className="badge danger">{errorMessage(verify.error)}</span>}
      {verify.data?.intact === true && (
        <span className="badge ok" role="status">
          Intact: {verify.data.checked} events checked
        </span>
      )}
      {verify.data?.intact === false && (
        <span className="badge danger" role="status">
          Altered at event #{verify.data.firstBadSeq}: {verify.data.reason}
        </span>
      )}
    </div>
  );
}

export default function AuditPage() {
  const trpc = useTRPC();
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const before = pages.at(-1);
  const events = useQuery(
    trpc.audit.list.queryOptions({
      action: action.trim() || undefined,
      actor: actor.trim() || undefined,
      before,
      limit: 50,
    }),
  );

  return (
    <>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 style={{ margin: 0 }}>Audit log</h1>
        <div className="spacer" />
        <ChainStatus />
      </div>
      <div className="row" style={{ marginBottom: 12 }}>
        <div style={{ width: 220 }}>
          <label htmlFor="f-action">Action</label>
          <input
            id="f-action"
            placeholder="e.g. cluster.create or rule."
            value={action}
            onChange={(e) => {
              setAction(e.target.value);
              setPages([undefined]);
            }}
          />
        </div>
        <div style={{ width: 180 }}>
          <label htmlFor="f-actor">Actor</label>
          <input
            id="f-actor"
            placeholder="user name"
            value={actor}
            onChange={(e) => {
              setActor(e.target.value);
              setPages([undefined]);
            }}
          />
        </div>
      </div>
      {events.isPending && <div className="loading">Loading events…</div>}
      {events.error && <div className="banner error">{errorMessage(events.error)}</div>}
      {events.data?.events.length === 0 && <div className="card empty">No events match.</div>}
      {events.data && events.data.events.length > 0 && (
        <table className="data" aria-label="Audit events">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Client</th>
            </tr>
          </thead>
          <tbody>
            {events.data.events.map((e) => (
              <tr key={e.seq}>
                <td className="mono">{e.seq}</td>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>
                  {e.actorName} <span className="muted small">{e.actorType}</span>
                </td>
                <td className="mono">{e.action}</td>
                <td className="small">
                  {e.targetType}{" "}
                  {(e.after as { name?: string } | null)?.name ?? (e.before as { name?: string } | null)?.name ?? ""}
                </td>
                <td className="mono small">{e.ip}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row" style={{ marginTop: 10 }}>
        <button type="button" disabled={pages.length <= 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={events.data?.nextBefore === undefined}
          onClick={() => setPages((p) => [...p, events.data?.nextBefore])}
        >
          Older
        </button>
      </div>
    </>
  );
}

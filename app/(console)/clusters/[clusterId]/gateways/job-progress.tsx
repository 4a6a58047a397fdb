"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { JOB_STATES, type JobStateName, jobIsOver, STEP_LABELS } from "./ssh-present";

const POLL_MS = 1_000;

/** A job's steps with their live state; polls until the job is over. */
export function JobProgress({ jobId, onFinished }: { jobId: string; onFinished?: (state: JobStateName) => void }) {
  const trpc = useTRPC();
  const job = useQuery({
    ...trpc.gatewaySsh.job.queryOptions({ id: jobId }),
    refetchInterval: (q) => (q.state.data && jobIsOver(q.state.data.state) ? false : POLL_MS),
  });
  const finalState = job.data && jobIsOver(job.data.state) ? job.data.state : null;
  // once per job: callers pass a fresh function on every render
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (finalState === null || reported.current === jobId) return;
    reported.current = jobId;
    onFinished?.(finalState);
  }, [finalState, jobId, onFinished]);
  if (job.isPending) return <div className="loading">Loading the job…</div>;
  if (job.error) {
    return (
      <div className="banner error" role="alert">
        {errorMessage(job.error)}
      </div>
    );
  }
  const j = job.data;
  const state = JOB_STATES[j.state];
  return (
    <section aria-label={`Job: ${j.title}`} className="card">
      <div className="row">
        <strong>{j.title}</strong>
        <span className={`badge ${state.tone}`} role="status" aria-label={`job ${state.label}`}>
          {state.label}
        </span>
        <div className="spacer" />
        <span className="muted small">
          started by {j.actorName} {new Date(j.createdAt).toLocaleString()}
        </span>
      </div>
      {j.error && (
        <div className="banner error" role="alert" style={{ whiteSpace: "pre-wrap" }}>
          {j.error}
        </div>
      )}
      <ol aria-label="Steps" style={{ listStyle: "none", paddingLeft: 0, margin: "8px 0 0" }}>
        {j.steps.map((s) => {
          const look = STEP_LABELS[s.state];
          return (
            <li key={s.key} data-step={s.key} data-state={s.state} style={{ margin: "4px 0" }}>
              <span className={`badge ${look.tone}`} aria-hidden="true">
                {look.mark}
              </span>{" "}
              <span>{s.label}</span> <span className="muted small">({look.label})</span>
              {s.detail && (
                <pre className="mono small" style={{ whiteSpace: "pre-wrap", margin: "2px 0 0 28px" }}>
                  {s.detail}
                </pre>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

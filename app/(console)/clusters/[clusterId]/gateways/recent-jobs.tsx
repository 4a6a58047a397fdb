"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../../../lib/trpc";
import { JobProgress } from "./job-progress";
import { JOB_STATES } from "./ssh-present";

const REFRESH_MS = 3_000;

interface JobRow {
  id: string;
  title: string;
  error: string | null;
  state: keyof typeof JOB_STATES;
  createdAt: Date | string;
  actorName: string;
}

/** SSH jobs (enrollments, upgrades) with their state, who started them, and a toggle for their steps. */
export function JobsTable(props: {
  label: string;
  jobs: readonly JobRow[];
  openJob: string | null;
  onToggle: (id: string) => void;
}) {
  return (
    <table className="data" aria-label={props.label}>
      <thead>
        <tr>
          <th>Job</th>
          <th>State</th>
          <th>Started</th>
          <th>
            <span className="sr-only">Steps</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((j) => (
          <tr key={j.id}>
            <td>
              {j.title}
              {j.error && <div className="muted small">{j.error.split("\n")[0]}</div>}
            </td>
            <td>
              <span className={`badge ${JOB_STATES[j.state].tone}`}>{JOB_STATES[j.state].label}</span>
            </td>
            <td className="small">
              {new Date(j.createdAt).toLocaleString()} by {j.actorName}
            </td>
            <td>
              <button type="button" onClick={() => props.onToggle(j.id)}>
                {props.openJob === j.id ? "Hide steps" : "Show steps"}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The cluster's recent SSH jobs (enrollments, upgrades), failed ones included, with their steps on demand. */
export function RecentJobs({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const jobs = useQuery({ ...trpc.gatewaySsh.jobs.queryOptions({ clusterId }), refetchInterval: REFRESH_MS });
  const [open, setOpen] = useState<string | null>(null);
  if (!jobs.data || jobs.data.length === 0) return null;
  return (
    <section aria-label="Recent SSH jobs" style={{ marginTop: 16 }}>
      <h2>Recent SSH jobs</h2>
      <JobsTable
        label="Recent SSH jobs of this cluster"
        jobs={jobs.data}
        openJob={open}
        onToggle={(id) => setOpen(open === id ? null : id)}
      />
      {open && <JobProgress jobId={open} />}
    </section>
  );
}

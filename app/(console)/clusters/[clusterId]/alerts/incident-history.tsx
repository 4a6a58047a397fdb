"use client";

import { useQuery } from "@tanstack/react-query";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";

const STATE_WORDS: Record<string, string> = {
  pending: "waiting to send",
  sending: "sending",
  sent: "sent",
  failed: "failed",
  skipped: "not sent (channel disabled)",
};

/** The cluster's recent incidents, open ones first in time order, with what each channel was sent. */
export function IncidentHistory({ clusterId, refreshMs }: { clusterId: string; refreshMs: number }) {
  const trpc = useTRPC();
  const incidents = useQuery({ ...trpc.alert.incidents.queryOptions({ clusterId }), refetchInterval: refreshMs });
  if (incidents.isPending) return <div className="loading">Loading the alert history…</div>;
  if (incidents.error) return <div className="banner error">{errorMessage(incidents.error)}</div>;
  if (incidents.data.length === 0) return <p className="muted">No incidents so far.</p>;
  return (
    <table className="data" aria-label="Alert history">
      <thead>
        <tr>
          <th>Opened</th>
          <th>Incident</th>
          <th>State</th>
          <th>Messages</th>
        </tr>
      </thead>
      <tbody>
        {incidents.data.map((i) => (
          <tr key={i.id}>
            <td>{new Date(i.openedAt).toLocaleString()}</td>
            <td>
              <strong>{i.severity === "critical" ? "Critical" : "Warning"}:</strong> {i.subject}
              <div className="muted small">{i.detail}</div>
            </td>
            <td>{i.resolvedAt === null ? "open" : `resolved ${new Date(i.resolvedAt).toLocaleString()}`}</td>
            <td className="small">
              {i.deliveries.length === 0
                ? "no channel"
                : i.deliveries.map((d) => (
                    <div key={`${d.channel}-${d.phase}`}>
                      {d.phase === "open" ? "opening" : "resolution"} to {d.channel}: {STATE_WORDS[d.state] ?? d.state}
                      {d.state !== "sent" && d.lastError !== "" ? ` (${d.lastError})` : ""}
                    </div>
                  ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

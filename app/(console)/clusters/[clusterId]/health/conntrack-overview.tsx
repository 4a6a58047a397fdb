"use client";

import { useQuery } from "@tanstack/react-query";
import { type UsageLevel, usageLevel } from "@/core/health/port-usage";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";

const BADGE: Record<UsageLevel, string> = { ok: "badge ok", warning: "badge warn", alert: "badge danger" };

/**
 * Each gateway's conntrack table: how full it is, and the kernel's counters of exhaustion
 * (insert_failed, drop, early_drop) that rise when connections find no room. Shown once an agent
 * has counted.
 */
export function ConntrackOverview({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.poolUsage.list.queryOptions({ clusterId }, { refetchInterval: 5_000 }));
  if (q.error) return <div className="banner error">Could not load the conntrack tables: {errorMessage(q.error)}</div>;
  const rows = q.data?.conntrack ?? [];
  if (rows.length === 0) return null;
  return (
    <section className="card" style={{ marginTop: 16 }} aria-labelledby="conntrack-heading">
      <h2 id="conntrack-heading" style={{ marginTop: 0 }}>
        Connection tracking
      </h2>
      <table className="data" aria-label="Conntrack tables">
        <thead>
          <tr>
            <th>Gateway</th>
            <th className="num">Connections</th>
            <th className="num">Table size</th>
            <th>Fill</th>
            <th className="num" title="new connections the kernel could not insert">
              insert_failed
            </th>
            <th className="num" title="packets dropped because the table was full">
              drop
            </th>
            <th className="num" title="connections evicted to make room">
              early_drop
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const pct = r.pct === null ? null : Math.round(r.pct * 10) / 10;
            return (
              <tr key={r.gatewayId} data-testid={`conntrack-${r.gatewayName}`}>
                <td>
                  {r.gatewayName}
                  {!r.online && (
                    <span className="muted small"> (offline: counted {new Date(r.at).toLocaleString()})</span>
                  )}
                </td>
                <td className="num">{r.count.toLocaleString("en-US")}</td>
                <td className="num">{r.max === null ? "unknown" : r.max.toLocaleString("en-US")}</td>
                <td>
                  {pct === null ? (
                    <span className="muted">unknown</span>
                  ) : (
                    <span className={BADGE[usageLevel(pct)]}>{pct}%</span>
                  )}
                </td>
                <td className="num">{r.insertFailed.toLocaleString("en-US")}</td>
                <td className="num">{r.drop.toLocaleString("en-US")}</td>
                <td className="num">{r.earlyDrop.toLocaleString("en-US")}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small">
        The counters count since the gateway booted; rising insert_failed or drop means connections are being refused.
      </p>
    </section>
  );
}

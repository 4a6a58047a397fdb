"use client";

import Link from "next/link";
import type { AppRouter } from "@/server/trpc/root";
import type { inferRouterOutputs } from "@trpc/server";
import type { GatewayAction } from "./gateway-action-dialog";
import { HaRole } from "./ha-role";
import { IpRuleConflicts } from "./ip-rule-conflicts";
import { applyErrorGist, attemptedRevision, CONNECTION_LABELS, describeSync, relativeTime } from "./present";

type GatewayList = inferRouterOutputs<AppRouter>["gateway"]["list"];

/** What the agent found on its host: kernel, nftables and interfaces, folded away. */
function HostFacts({ facts }: { facts: Record<string, unknown> }) {
  const kernel = typeof facts.kernel === "string" ? facts.kernel : "";
  const nft = typeof facts.nftVersion === "string" ? facts.nftVersion : "";
  const interfaces = Array.isArray(facts.interfaces)
    ? (facts.interfaces as Array<{ name?: unknown; addresses?: unknown }>)
    : [];
  if (!kernel && !nft && interfaces.length === 0) return null;
  return (
    <details>
      <summary className="small muted">host</summary>
      <div className="small">
        {kernel && <div>kernel {kernel}</div>}
        {nft && <div>nftables {nft}</div>}
        {interfaces.map((i) => (
          <div key={String(i.name)} className="mono">
            {String(i.name)}: {Array.isArray(i.addresses) ? i.addresses.join(", ") || "no address" : ""}
          </div>
        ))}
      </div>
    </details>
  );
}

/** The cluster's gateways: connection, applied revision, last apply (with nft's error) and agent; admins manage each. */
export function GatewaysTable({
  clusterId,
  list,
  isAdmin,
  onAction,
}: {
  clusterId: string;
  list: GatewayList;
  isAdmin: boolean;
  onAction: (action: GatewayAction) => void;
}) {
  const now = new Date();
  // the column appears once a gateway reports VRRP or is drained
  const showHa = list.gateways.some((g) => g.ha !== null || g.drained);
  return (
    <table className="data" aria-label="Gateways">
      <thead>
        <tr>
          <th>Gateway</th>
          <th>State</th>
          {showHa && <th>High availability</th>}
          <th>Applied / published</th>
          <th>Last apply</th>
          <th>Agent</th>
          {isAdmin && <th>Manage</th>}
        </tr>
      </thead>
      <tbody>
        {list.gateways.map((g) => {
          const conn = CONNECTION_LABELS[g.connection];
          const sync = describeSync(g, list.published);
          return (
            <tr key={g.id}>
              <td>
                <Link href={`/clusters/${clusterId}/gateways/${g.id}`}>
                  <strong>{g.name}</strong>
                </Link>
                {g.address && <div className="muted small mono">{g.address}</div>}
              </td>
              <td>
                <span className={`badge ${conn.tone}`}>{conn.label}</span>
                <div className="muted small">
                  {g.lastSeenAt ? `seen ${relativeTime(g.lastSeenAt, now)}` : conn.hint}
                </div>
                {g.enrollmentPending && g.hasAgentToken && (
                  <div className="muted small">new enrollment token issued, not used yet</div>
                )}
              </td>
              {showHa && (
                <td>
                  <HaRole ha={g.ha} drained={g.drained} compact />
                </td>
              )}
              <td>
                <span className={`badge ${sync.tone}`}>{sync.label}</span>
                <div className="muted small">{sync.detail}</div>
              </td>
              <td>
                {g.lastApplyAt === null ? (
                  <span className="muted">never</span>
                ) : g.lastApplyOk ? (
                  <span>ok, {relativeTime(g.lastApplyAt, now)}</span>
                ) : (
                  <div role="status">
                    <span className="badge danger">failed</span>{" "}
                    {attemptedRevision(g.facts) === null ? "" : `revision #${attemptedRevision(g.facts)}, `}
                    {relativeTime(g.lastApplyAt, now)}: {applyErrorGist(g.lastApplyError)}
                    <div className="muted small">
                      The gateway keeps the rules it ran before
                      {g.appliedRevision === null ? "" : ` (#${g.appliedRevision})`}.
                    </div>
                    <details>
                      <summary className="small">nft said</summary>
                      <pre className="mono small" style={{ whiteSpace: "pre-wrap", margin: 0 }}>
                        {g.lastApplyError}
                      </pre>
                    </details>
                  </div>
                )}
              </td>
              <td>
                {g.agentVersion ? (
                  <span className="mono small">{g.agentVersion}</span>
                ) : (
                  <span className="muted">—</span>
                )}
                <IpRuleConflicts facts={g.facts} className="small" />
                <HostFacts facts={g.facts} />
              </td>
              {isAdmin && (
                <td>
                  <div className="row">
                    <button type="button" onClick={() => onAction({ kind: "rotate", id: g.id, name: g.name })}>
                      New token
                    </button>
                    {(g.hasAgentToken || g.enrollmentPending) && (
                      <button type="button" onClick={() => onAction({ kind: "revoke", id: g.id, name: g.name })}>
                        Revoke
                      </button>
                    )}
                    <button
                      type="button"
                      className="danger"
                      onClick={() => onAction({ kind: "delete", id: g.id, name: g.name })}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

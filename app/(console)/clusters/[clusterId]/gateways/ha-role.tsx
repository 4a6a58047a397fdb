"use client";

import type { HaStatus } from "@/core/protocol/agent-api";
import { haRole } from "./ha-present";

/**
 * A gateway's VRRP role per group and its keepalived and conntrackd state, as its agent last
 * reported them; `drained` says the operator took it out of service.
 */
export function HaRole({ ha, drained, compact = false }: { ha: HaStatus | null; drained: boolean; compact?: boolean }) {
  const view = haRole(ha, new Date());
  if (view === null && !drained) return <span className="muted small">no VRRP report</span>;
  return (
    <div className="small" data-testid="ha-role">
      {drained && <span className="badge warn">drained</span>}
      {view?.groups.map((g) => (
        <div key={g.name}>
          <span className={`badge ${g.tone}`}>{g.state}</span> <span className="mono">{g.name}</span>
          {!compact && g.detail && <span className="muted"> ({g.detail})</span>}
        </div>
      ))}
      {view && (
        <div className="muted">
          {view.services.map((s, i) => (
            <span key={s.name}>
              {i > 0 && " · "}
              {s.name} <span className={`badge ${s.tone}`}>{s.state}</span>
            </span>
          ))}
        </div>
      )}
      {view?.error && (
        <div className="field-error" role="status">
          {view.error}
        </div>
      )}
    </div>
  );
}

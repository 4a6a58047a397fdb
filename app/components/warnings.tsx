"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { WarningCode } from "@/core/policy/warnings";
import { useTRPC } from "../lib/trpc";

/** Short badge text per warning kind; the full sentence is next to it or in the list. */
export const WARNING_LABELS: Record<WarningCode, string> = {
  "rule-shadowed": "shadowed",
  "zone-overlap": "overlaps a zone",
  "pool-unused": "unused",
  "pool-isp-mismatch": "pool of another ISP",
  "pool-any-egress": "pool for any ISP",
  "pool-too-small": "pool too small",
  "pool-fewer-than-gateways": "fewer addresses than gateways",
  "failover-no-pool": "no failover pool",
  "failover-pool-mismatch": "failover pool of another ISP",
  "failover-no-backup": "no backup",
  "backup-no-default-pool": "backup without default pool",
  "rule-iif-not-lan": "input interface not a LAN one",
};

export interface WarningItem {
  entity: string;
  id: string | null;
  code: WarningCode;
  message: string;
  title: string;
  position: number | null;
}

/** The draft's warnings, and those of each entity by id. */
export function useDraftWarnings(clusterId: string, enabled = true) {
  const trpc = useTRPC();
  const q = useQuery(trpc.draft.warnings.queryOptions({ clusterId }, { enabled }));
  const byId = useMemo(() => {
    const m = new Map<string, WarningItem[]>();
    for (const w of q.data?.warnings ?? []) {
      if (!w.id) continue;
      const list = m.get(w.id);
      if (list) list.push(w);
      else m.set(w.id, [w]);
    }
    return m;
  }, [q.data]);
  return { query: q, byId, all: (q.data?.warnings ?? []) as WarningItem[] };
}

/** Badges with words ("shadowed", "pool too small"); the sentence is the badge's tooltip and screen-reader text. */
export function WarningBadges({ warnings }: { warnings: readonly WarningItem[] | undefined }) {
  if (!warnings || warnings.length === 0) return null;
  return (
    <>
      {warnings.map((w) => (
        <span key={`${w.code}-${w.message}`} className="badge warn" title={w.message}>
          ⚠ {WARNING_LABELS[w.code]}
          <span className="sr-only">: {w.message}</span>
        </span>
      ))}
    </>
  );
}

/** The sentences themselves, for a row or form that has room for them. */
export function WarningSentences({ warnings }: { warnings: readonly WarningItem[] | undefined }) {
  if (!warnings || warnings.length === 0) return null;
  return (
    <ul className="warn-list">
      {warnings.map((w) => (
        <li key={`${w.code}-${w.message}`}>{w.message}</li>
      ))}
    </ul>
  );
}

/** A list of warnings of one kind of entity, for the top of a page. */
export function WarningList({
  warnings,
  onShow,
  label = "Warnings",
}: {
  warnings: readonly WarningItem[];
  onShow?: (w: WarningItem) => void;
  label?: string;
}) {
  if (warnings.length === 0) return null;
  const shown = warnings.slice(0, 200);
  return (
    <details className="banner warn" aria-label={label}>
      <summary>
        {label}: {warnings.length} {warnings.length === 1 ? "thing" : "things"} probably not meant (they do not block
        publishing)
      </summary>
      <ul style={{ margin: "8px 0 0", paddingLeft: 18 }} className="scroll-list">
        {shown.map((w) => (
          <li key={`${w.id}-${w.code}-${w.message}`}>
            <strong>{w.title}</strong>: {w.message}{" "}
            {onShow && (
              <button type="button" className="link" onClick={() => onShow(w)}>
                Show
              </button>
            )}
          </li>
        ))}
        {warnings.length > shown.length && <li>…and {warnings.length - shown.length} more</li>}
      </ul>
    </details>
  );
}

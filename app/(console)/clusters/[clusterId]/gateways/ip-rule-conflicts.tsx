"use client";

import { zIpRuleCheck } from "@/core/protocol/agent-api";

/**
 * Operator ip rules the agent found before Gatehouse's own: they can override its redirects and
 * failovers. The agent reports them (before and after every apply, and every few seconds) and the
 * console keeps the last report in the gateway's facts.
 */
export function IpRuleConflicts({ facts, className }: { facts: Record<string, unknown>; className?: string }) {
  const parsed = zIpRuleCheck.safeParse(facts.ipRules);
  if (!parsed.success) return null;
  const { conflicts, error } = parsed.data;
  if (conflicts.length === 0 && !error) return null;
  return (
    <div className={`banner warn${className ? ` ${className}` : ""}`} role="alert">
      {conflicts.length > 0 && (
        <>
          <div>
            {conflicts.length} ip rule{conflicts.length === 1 ? "" : "s"} of the operator come before Gatehouse's and
            can override its redirects and failovers:
          </div>
          {conflicts.map((c) => (
            <div key={`${c.priority} ${c.rule}`} className="mono">
              {c.priority}: {c.rule} (before {c.before})
            </div>
          ))}
        </>
      )}
      {error && <div>Could not read the ip rules: {error}</div>}
    </div>
  );
}

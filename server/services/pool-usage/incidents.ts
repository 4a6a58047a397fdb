import { z } from "zod";
import {
  describePoolUsageIncident,
  type PoolUsageIncident,
  type PoolUsageIncidentChange,
} from "../../../core/health/port-usage";

/**
 * Pool usage incidents as other parts of the console see them: one event when an incident opens
 * and one when it resolves, each once per episode, after the transaction that recorded it in the
 * audit log has committed. Alert channels subscribe with `onPoolUsageIncident`.
 */

export interface PoolUsageIncidentEvent {
  state: "opened" | "resolved";
  clusterId: string;
  gatewayName: string;
  poolName: string;
  incident: PoolUsageIncident;
  /** the incident in operator words, as the audit log shows it */
  text: string;
  at: Date;
}

export type PoolUsageIncidentListener = (event: PoolUsageIncidentEvent) => void;

const listeners = new Set<PoolUsageIncidentListener>();

/** Calls `listener` for every pool usage incident that opens or resolves; returns the unsubscribe. */
export function onPoolUsageIncident(listener: PoolUsageIncidentListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Hands committed incident events to the listeners; a listener that throws does not stop the others. */
export function emitPoolUsageIncidents(events: readonly PoolUsageIncidentEvent[]): void {
  for (const e of events) {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is its own to report
      }
    }
  }
}

/** The events of one decision, with names for the words. */
export function incidentEvents(
  change: PoolUsageIncidentChange,
  ctx: { clusterId: string; gatewayName: string; poolName: (id: string) => string; at: Date },
): PoolUsageIncidentEvent[] {
  const event = (state: "opened" | "resolved", incident: PoolUsageIncident): PoolUsageIncidentEvent => {
    const poolName = ctx.poolName(incident.poolId);
    return {
      state,
      clusterId: ctx.clusterId,
      gatewayName: ctx.gatewayName,
      poolName,
      incident,
      text: describePoolUsageIncident(
        incident,
        { gateway: ctx.gatewayName, pool: poolName },
        state === "opened" ? "open" : "resolved",
      ),
      at: ctx.at,
    };
  };
  return [...change.resolved.map((i) => event("resolved", i)), ...change.opened.map((i) => event("opened", i))];
}

const zIncidents = z.array(
  z.object({
    key: z.string(),
    level: z.enum(["warning", "alert"]),
    gatewayId: z.string(),
    poolId: z.string(),
    address: z.string(),
    pct: z.number(),
    toward: z.string(),
  }),
);

export function parseIncidents(text: string): PoolUsageIncident[] {
  try {
    const r = zIncidents.safeParse(JSON.parse(text));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

import type { HaStatus, VrrpState, VrrpTransition } from "../protocol/agent-api";

/**
 * High-availability incidents of a cluster, decided from what its gateways last reported: split
 * brain (two gateways master of one VRRP group) and no healthy backup (a group that only one
 * gateway, or none, could hold now). A gateway that has not reported for longer than the offline
 * time counts as gone, whatever it said last: a dead gateway stops reporting, it does not say so.
 */

export const HA_INCIDENT_KINDS = ["split_brain", "no_healthy_backup"] as const;
export type HaIncidentKind = (typeof HA_INCIDENT_KINDS)[number];

export interface HaIncident {
  /** kind and group: the same incident keeps its key while it lasts */
  key: string;
  kind: HaIncidentKind;
  group: string;
  /** split brain: the masters; no healthy backup: the gateways that can still hold the group */
  gatewayIds: string[];
}

export interface GatewayHaView {
  id: string;
  name: string;
  /** null: no report yet, or the gateway is offline */
  ha: HaStatus | null;
}

/** States in which a gateway holds, or stands ready to take, a group. */
const HEALTHY: ReadonlySet<VrrpState> = new Set(["master", "backup"]);

export function detectHaIncidents(gateways: readonly GatewayHaView[]): HaIncident[] {
  const groups = new Map<string, { id: string; state: VrrpState }[]>();
  for (const g of gateways) {
    for (const group of g.ha?.groups ?? []) {
      groups.set(group.name, [...(groups.get(group.name) ?? []), { id: g.id, state: group.state }]);
    }
  }
  const out: HaIncident[] = [];
  for (const [group, members] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const masters = members.filter((m) => m.state === "master").map((m) => m.id);
    if (masters.length > 1) out.push({ key: `split_brain:${group}`, kind: "split_brain", group, gatewayIds: masters });
    const healthy = members.filter((m) => HEALTHY.has(m.state)).map((m) => m.id);
    if (healthy.length < 2) {
      out.push({ key: `no_healthy_backup:${group}`, kind: "no_healthy_backup", group, gatewayIds: healthy });
    }
  }
  return out;
}

/** An incident in operator words, with gateway names. */
export function describeHaIncident(incident: HaIncident, nameOf: (id: string) => string): string {
  const names = incident.gatewayIds.map((id) => `"${nameOf(id)}"`);
  if (incident.kind === "split_brain") {
    return `Split brain in VRRP group "${incident.group}": ${names.join(" and ")} are all master. Clients and the ISPs see the same addresses on two gateways; check the VRRP link between them.`;
  }
  if (names.length === 0) {
    return `No gateway can hold VRRP group "${incident.group}": every gateway is in fault, stopped or offline.`;
  }
  return `No healthy backup for VRRP group "${incident.group}": only ${names[0]} can hold it. If it fails, its addresses have nowhere to go.`;
}

/** The key that tells transitions apart: the agent resends its last 50 with every report. */
export const transitionKey = (t: VrrpTransition) => `${t.group}\u0000${t.at}\u0000${t.from}\u0000${t.to}`;

/** The transitions of `report` that `previous` did not have, in the agent's order. */
export function newTransitions(
  previous: readonly VrrpTransition[],
  report: readonly VrrpTransition[],
): VrrpTransition[] {
  const seen = new Set(previous.map(transitionKey));
  return report.filter((t) => !seen.has(transitionKey(t)));
}

import type { HaStatus, VrrpState } from "@/core/protocol/agent-api";
import { sinceText } from "../health/present";
import type { Tone } from "./present";

/** Words and badge tones for what an agent reports of VRRP and connection sync: pure, so pages and tests agree. */

export const VRRP_STATE_TONES: Record<VrrpState, Tone> = {
  master: "ok",
  backup: "",
  fault: "danger",
  stopped: "warn",
  unknown: "warn",
};

type ServiceState = HaStatus["keepalived"] | HaStatus["conntrackd"];

const SERVICE_TONES: Record<ServiceState, Tone> = { running: "ok", stopped: "warn", failed: "danger", disabled: "" };

export interface HaRoleView {
  groups: { name: string; state: VrrpState; tone: Tone; detail: string }[];
  services: { name: "keepalived" | "conntrackd"; state: ServiceState; tone: Tone }[];
  error: string;
}

/**
 * A gateway's role per VRRP group and its keepalived and conntrackd state, from its last report;
 * null when it has sent none (no high availability, or an agent that does not report it).
 */
export function haRole(ha: HaStatus | null, now: Date): HaRoleView | null {
  if (ha === null) return null;
  return {
    groups: ha.groups.map((g) => ({
      name: g.name,
      state: g.state,
      tone: VRRP_STATE_TONES[g.state],
      detail: [
        g.effectivePriority === null ? "" : `priority ${g.effectivePriority}`,
        g.since === null ? "" : `for ${sinceText(g.since, now.getTime())}`,
      ]
        .filter(Boolean)
        .join(", "),
    })),
    services: [
      { name: "keepalived", state: ha.keepalived, tone: SERVICE_TONES[ha.keepalived] },
      { name: "conntrackd", state: ha.conntrackd, tone: SERVICE_TONES[ha.conntrackd] },
    ],
    error: ha.error,
  };
}

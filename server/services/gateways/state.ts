import { OFFLINE_AFTER_SECONDS } from "../../../core/protocol/agent-api";

/**
 * How a gateway looks to an operator, derived from what the console stores: whether it can and
 * does talk to the console, and whether it runs what the cluster published.
 */
export type Connection =
  /** has an unused, unexpired enrollment token and no agent token yet */
  | "awaiting_enrollment"
  /** its enrollment token expired before use */
  | "enrollment_expired"
  /** no valid credentials: an admin revoked them */
  | "revoked"
  | "online"
  | "offline"
  /** enrolled but never reported */
  | "never_seen";

export type Sync =
  | "in_sync"
  /** runs an older revision or failover state than the cluster's */
  | "behind"
  /** its last apply failed (it keeps running what it ran before) */
  | "apply_failed"
  /** nothing applied yet */
  | "not_applied"
  /** the cluster has published nothing yet */
  | "nothing_published";

export interface GatewayStateInput {
  hasAgentToken: boolean;
  enrollExpiresAt: Date | null;
  hasEnrollToken: boolean;
  lastSeenAt: Date | null;
  appliedRevision: number | null;
  appliedEpoch: number | null;
  lastApplyOk: boolean | null;
}

export interface Published {
  revision: number;
  failoverEpoch: number;
}

export function connectionOf(g: GatewayStateInput, now: Date): Connection {
  if (!g.hasAgentToken) {
    if (g.hasEnrollToken && g.enrollExpiresAt !== null) {
      return g.enrollExpiresAt.getTime() > now.getTime() ? "awaiting_enrollment" : "enrollment_expired";
    }
    return "revoked";
  }
  if (g.lastSeenAt === null) return "never_seen";
  return now.getTime() - g.lastSeenAt.getTime() <= OFFLINE_AFTER_SECONDS * 1000 ? "online" : "offline";
}

export function syncOf(g: GatewayStateInput, published: Published): Sync {
  if (g.lastApplyOk === false) return "apply_failed";
  if (published.revision === 0) return "nothing_published";
  if (g.appliedRevision === null) return "not_applied";
  return g.appliedRevision === published.revision && g.appliedEpoch === published.failoverEpoch ? "in_sync" : "behind";
}

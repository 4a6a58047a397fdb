import { createHash } from "node:crypto";

/**
 * The audit hash chain: each event stores the hash of its predecessor and a hash over its own
 * fields plus that predecessor hash, so altering, inserting or deleting a row breaks the chain
 * at the first event after the change.
 */
export const GENESIS_HASH = "0".repeat(64);

export interface ChainedFields {
  at: Date;
  actorType: string;
  actorId: string;
  actorName: string;
  action: string;
  clusterId: string | null;
  targetType: string;
  targetId: string;
  before: string | null;
  after: string | null;
  ip: string;
  userAgent: string;
  requestId: string;
  prevHash: string;
}

export function eventHash(e: ChainedFields): string {
  // a JSON array keeps field boundaries unambiguous whatever the values contain
  const canonical = JSON.stringify([
    e.at.toISOString(),
    e.actorType,
    e.actorId,
    e.actorName,
    e.action,
    e.clusterId,
    e.targetType,
    e.targetId,
    e.before,
    e.after,
    e.ip,
    e.userAgent,
    e.requestId,
    e.prevHash,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

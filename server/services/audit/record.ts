import type { Tx } from "../../db";
import { countAuditEvent } from "../../metrics/console-metrics";
import { chainedFields, newEventHash } from "./chain";

export type ActorType = "user" | "agent" | "system";

export interface Actor {
  type: ActorType;
  id: string;
  name: string;
}

export interface RequestMeta {
  ip: string;
  userAgent: string;
  requestId: string;
}

export const SYSTEM_META: RequestMeta = { ip: "", userAgent: "", requestId: "" };
export const SYSTEM_ACTOR: Actor = { type: "system", id: "", name: "system" };

export interface AuditInput {
  actor: Actor;
  meta: RequestMeta;
  action: string;
  clusterId?: string | null;
  targetType?: string;
  targetId?: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends one event. Call it inside the same transaction as the change it records, so that the
 * change and its audit event commit or fail together.
 */
export async function recordAudit(tx: Tx, input: AuditInput): Promise<void> {
  // updating the head row first takes its lock: concurrent appends, from any replica, queue here
  const head = await tx.auditChainHead.update({
    where: { id: 1 },
    data: { lastSeq: { increment: 0 } },
    select: { lastHash: true },
  });
  const fields = chainedFields(input, new Date(), head.lastHash);
  const hash = newEventHash(fields);
  const event = await tx.auditEvent.create({ data: { ...fields, hash }, select: { seq: true } });
  await tx.auditChainHead.update({ where: { id: 1 }, data: { lastSeq: event.seq, lastHash: hash } });
  // counted when written: a transaction that fails after this point still counts (rare: the audit
  // event is the last write of a change)
  countAuditEvent(input.action, input.actor.type, input.after);
}

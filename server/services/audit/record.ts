import type { Tx } from "../../db";
import { eventHash } from "./chain";

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

const toJson = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

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
  const fields = {
    at: new Date(),
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorName: input.actor.name,
    action: input.action,
    clusterId: input.clusterId ?? null,
    targetType: input.targetType ?? "",
    targetId: input.targetId ?? "",
    before: toJson(input.before),
    after: toJson(input.after),
    ip: input.meta.ip,
    userAgent: input.meta.userAgent.slice(0, 400),
    requestId: input.meta.requestId,
    prevHash: head.lastHash,
  };
  const hash = eventHash(fields);
  const event = await tx.auditEvent.create({ data: { ...fields, hash }, select: { seq: true } });
  await tx.auditChainHead.update({ where: { id: 1 }, data: { lastSeq: event.seq, lastHash: hash } });
}

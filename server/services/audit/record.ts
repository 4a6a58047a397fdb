import { dbProvider, type Tx } from "../../db";
import { eventHash, GENESIS_HASH } from "./chain";

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

/** Any id that serialises appends to the chain across console replicas on PostgreSQL. */
const CHAIN_LOCK_ID = 0x6761_7465;

const toJson = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Appends one event. Call it inside the same transaction as the change it records, so that the
 * change and its audit event commit or fail together.
 */
export async function recordAudit(tx: Tx, input: AuditInput): Promise<void> {
  if (dbProvider === "postgresql") {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_ID})`);
  }
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
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
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  await tx.auditEvent.create({ data: { ...fields, hash: eventHash(fields) }, select: { seq: true } });
}

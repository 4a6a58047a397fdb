import { z } from "zod";
import type { Db } from "../../db";

export const zAuditFilter = z.object({
  clusterId: z.string().max(64).optional(),
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  targetType: z.string().max(32).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
  /** events older than this sequence number (keyset paging, newest first) */
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(500).default(50),
});
export type AuditFilter = z.infer<typeof zAuditFilter>;

export async function listAuditEvents(db: Db, f: AuditFilter) {
  const rows = await db.auditEvent.findMany({
    where: {
      clusterId: f.clusterId,
      actorName: f.actor,
      action: f.action === undefined ? undefined : f.action.endsWith(".") ? { startsWith: f.action } : f.action,
      targetType: f.targetType,
      at: f.from || f.to ? { gte: f.from, lte: f.to } : undefined,
      seq: f.before !== undefined ? { lt: f.before } : undefined,
    },
    orderBy: { seq: "desc" },
    take: f.limit + 1,
  });
  const page = rows.slice(0, f.limit);
  return {
    events: page.map((e) => ({
      ...e,
      before: e.before === null ? null : (JSON.parse(e.before) as unknown),
      after: e.after === null ? null : (JSON.parse(e.after) as unknown),
    })),
    nextBefore: rows.length > f.limit ? page.at(-1)?.seq : undefined,
  };
}

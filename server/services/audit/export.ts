import { type AuditEvent, Prisma } from "../../../prisma/generated/sqlite/client";
import type { Db } from "../../db";
import { isReadableTime } from "./chain";
import { csvRow } from "./csv";
import { type AuditFilter, filterConditions, whereClause, zAuditFilter } from "./filter";
import { resolveActions } from "./list";
import { filterFromParams } from "../../../core/audit/filter-params";
import { type Actor, type RequestMeta, recordAudit } from "./record";
import { parseJsonColumn, providerOfDb } from "./store";

/**
 * Exports of a filtered range of the audit log, oldest first, as CSV or JSON Lines. Rows are
 * read a page at a time (keyset on seq) and handed out as they come, so an export of the whole
 * log never sits in memory. Every row carries its hash and its predecessor's, so an exported
 * range can be checked against the chain later.
 */

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CSV_COLUMNS = [
  "seq",
  "at",
  "actorType",
  "actorId",
  "actorName",
  "action",
  "clusterId",
  "clusterName",
  "targetType",
  "targetId",
  "ip",
  "userAgent",
  "requestId",
  "before",
  "after",
  "prevHash",
  "hash",
  "hashVersion",
] as const;

/** A row edited by hand may hold a time that cannot be read: exported as empty, not a failed export. */
const timeText = (at: Date) => (isReadableTime(at) ? at.toISOString() : "");

const PAGE = 500;

export type ExportRequest = { ok: true; format: ExportFormat; filter: AuditFilter } | { ok: false; message: string };

/** Reads an export request from its URL query: the timeline's filter parameters plus `format`. */
export function parseExportRequest(params: URLSearchParams): ExportRequest {
  const format = params.get("format") ?? "csv";
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    return { ok: false, message: `format must be one of ${EXPORT_FORMATS.join(", ")}` };
  }
  const { filter, invalid } = filterFromParams(params);
  if (invalid.length > 0) return { ok: false, message: `${invalid.join(" and ")} must be a date and time` };
  const parsed = zAuditFilter.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `${issue?.path.join(".") ?? "filter"} ${issue?.message ?? "is invalid"}` };
  }
  return { ok: true, format: format as ExportFormat, filter: parsed.data };
}

type ExportRow = AuditEvent & { clusterName: string | null };

async function* exportRows(db: Db, filter: AuditFilter): AsyncGenerator<ExportRow> {
  const actions = await resolveActions(db, filter.action);
  if (actions !== undefined && actions.length === 0) return;
  const conditions = filterConditions(providerOfDb(db), filter, actions);
  const names = new Map<string, string | null>();
  let after = 0;
  for (;;) {
    const page = await db.$queryRaw<{ seq: number | bigint }[]>(
      Prisma.sql`SELECT "seq" FROM "AuditEvent" ${whereClause([...conditions, Prisma.sql`"seq" > ${after}`])}
        ORDER BY "seq" ASC LIMIT ${PAGE}`,
    );
    if (page.length === 0) return;
    const seqs = page.map((r) => Number(r.seq));
    const rows = await db.auditEvent.findMany({ where: { seq: { in: seqs } }, orderBy: { seq: "asc" } });
    const unknown = [...new Set(rows.map((r) => r.clusterId))].filter(
      (id): id is string => id !== null && !names.has(id),
    );
    if (unknown.length > 0) {
      const found = await db.cluster.findMany({ where: { id: { in: unknown } }, select: { id: true, name: true } });
      for (const id of unknown) names.set(id, found.find((c) => c.id === id)?.name ?? null);
    }
    for (const row of rows)
      yield { ...row, clusterName: row.clusterId === null ? null : (names.get(row.clusterId) ?? null) };
    const last = seqs.at(-1);
    if (page.length < PAGE || last === undefined) return;
    after = last;
  }
}

function csvLine(r: ExportRow): string {
  return csvRow([
    r.seq,
    timeText(r.at),
    r.actorType,
    r.actorId,
    r.actorName,
    r.action,
    r.clusterId,
    r.clusterName,
    r.targetType,
    r.targetId,
    r.ip,
    r.userAgent,
    r.requestId,
    r.before,
    r.after,
    r.prevHash,
    r.hash,
    r.hashVersion,
  ]);
}

function jsonLine(r: ExportRow): string {
  return `${JSON.stringify({
    seq: r.seq,
    at: timeText(r.at),
    actorType: r.actorType,
    actorId: r.actorId,
    actorName: r.actorName,
    action: r.action,
    clusterId: r.clusterId,
    clusterName: r.clusterName,
    targetType: r.targetType,
    targetId: r.targetId,
    ip: r.ip,
    userAgent: r.userAgent,
    requestId: r.requestId,
    before: parseJsonColumn(r.before),
    after: parseJsonColumn(r.after),
    prevHash: r.prevHash,
    hash: r.hash,
    hashVersion: r.hashVersion,
  })}\n`;
}

/** The export as text chunks (a header, then one chunk per page of rows). */
export async function* exportAudit(db: Db, format: ExportFormat, filter: AuditFilter): AsyncGenerator<string> {
  if (format === "csv") yield csvRow([...CSV_COLUMNS]);
  const line = format === "csv" ? csvLine : jsonLine;
  let chunk = "";
  let n = 0;
  for await (const row of exportRows(db, filter)) {
    chunk += line(row);
    if (++n % PAGE === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}

export const EXPORT_CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
};

export function exportFileName(format: ExportFormat, now = new Date()): string {
  return `gatehouse-audit-${now.toISOString().replace(/[:.]/g, "-")}.${format}`;
}

/** Who exported what is itself worth knowing. It is no change to a cluster, so it stays out of cluster histories. */
export async function recordExport(db: Db, actor: Actor, meta: RequestMeta, format: ExportFormat, filter: AuditFilter) {
  await db.$transaction((tx) =>
    recordAudit(tx, {
      actor,
      meta,
      action: "audit.export",
      targetType: "audit",
      targetId: format,
      after: { format, filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() } },
    }),
  );
}

import type { Db } from "../db";
import { logger } from "../log";
import type { RequestMeta } from "../services/audit/record";
import { roleAtLeast, type Role } from "../services/auth/roles";
import {
  EXPORT_CONTENT_TYPE,
  exportAudit,
  exportFileName,
  parseExportRequest,
  recordExport,
} from "../services/audit/export";

/**
 * The download behind GET /api/audit/export: checks the session the way the API does (any
 * signed-in user may read the log), validates the filter, records who exported what, and
 * streams the file as it is read.
 */

export interface ExportCaller {
  userId: string;
  username: string;
  role: Role;
}

const json = (status: number, error: string) =>
  new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });

export async function auditExportResponse(
  db: Db,
  caller: ExportCaller | null,
  meta: RequestMeta,
  params: URLSearchParams,
): Promise<Response> {
  if (caller === null) return json(401, "Sign in first.");
  if (!roleAtLeast(caller.role, "viewer")) return json(403, "This needs the viewer role.");
  const request = parseExportRequest(params);
  if (!request.ok) return json(400, `Invalid export request: ${request.message}`);
  const { format, filter } = request;
  await recordExport(db, { type: "user", id: caller.userId, name: caller.username }, meta, format, filter);

  const chunks = exportAudit(db, format, filter);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        // the status line is long gone: cutting the stream short is all that is left to say
        logger.error({ err, requestId: meta.requestId }, "audit export failed");
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": EXPORT_CONTENT_TYPE[format],
      "content-disposition": `attachment; filename="${exportFileName(format)}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

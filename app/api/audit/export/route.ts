import { auditExportResponse } from "@/server/http/audit-export";
import { createContext } from "@/server/trpc/context";

export const dynamic = "force-dynamic";

/** Audit log download (CSV or JSON Lines) for the timeline's current filter. */
export async function GET(req: Request): Promise<Response> {
  const ctx = await createContext({ req, resHeaders: new Headers() });
  return auditExportResponse(ctx.db, ctx.session, ctx.meta, new URL(req.url).searchParams);
}

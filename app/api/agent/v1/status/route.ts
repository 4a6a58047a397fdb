import { getDb } from "@/server/db";
import { handleStatus } from "@/server/http/agent-api";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function POST(req: Request): Promise<Response> {
  return handleStatus(getDb(), req);
}

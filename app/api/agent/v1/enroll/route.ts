import { getDb } from "@/server/db";
import { handleEnroll } from "@/server/http/agent-api";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function POST(req: Request): Promise<Response> {
  return handleEnroll(getDb(), req);
}

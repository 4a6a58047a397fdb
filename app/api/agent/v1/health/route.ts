import { getDb } from "@/server/db";
import { handleHealth } from "@/server/http/agent-health";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function POST(req: Request): Promise<Response> {
  return handleHealth(getDb(), req);
}

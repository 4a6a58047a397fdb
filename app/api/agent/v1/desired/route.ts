import { getDb } from "@/server/db";
import { handleDesired } from "@/server/http/agent-api";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(req: Request): Promise<Response> {
  return handleDesired(getDb(), req);
}

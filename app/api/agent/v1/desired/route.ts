import { getDb } from "@/server/db";
import { handleDesired } from "@/server/services/gateways/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(req: Request): Promise<Response> {
  return handleDesired(getDb(), req);
}

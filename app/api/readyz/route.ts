import { getDb } from "@/server/db";
import { handleReadyz } from "@/server/http/probes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(): Promise<Response> {
  return handleReadyz(getDb());
}

import { getDb } from "@/server/db";
import { env } from "@/server/env";
import { handleMetrics } from "@/server/http/metrics";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(req: Request): Promise<Response> {
  return handleMetrics(getDb(), req, env.GATEHOUSE_METRICS_TOKEN);
}

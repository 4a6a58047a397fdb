import { createHash, timingSafeEqual } from "node:crypto";
import { OFFLINE_AFTER_SECONDS } from "../../core/protocol/agent-api";
import type { Db } from "../db/client";
import { attachMetricSources, consoleMetrics } from "../metrics/console-metrics";
import { totalWaiterCount } from "../services/cluster-changes/notifier";

/**
 * GET /metrics: the console's Prometheus metrics (server/metrics/console-metrics.ts). Open unless
 * GATEHOUSE_METRICS_TOKEN is set; then a scraper sends it as a bearer token.
 */

const digest = (s: string) => createHash("sha256").update(s).digest();

function authorized(req: Request, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  return timingSafeEqual(digest(given), digest(token));
}

async function gatewaysByCluster(db: Db) {
  const since = new Date(Date.now() - OFFLINE_AFTER_SECONDS * 1000);
  const rows = await db.gateway.findMany({
    select: { lastSeenAt: true, cluster: { select: { name: true } } },
  });
  const out = new Map<string, { cluster: string; online: number; offline: number }>();
  for (const r of rows) {
    const c = out.get(r.cluster.name) ?? { cluster: r.cluster.name, online: 0, offline: 0 };
    if (r.lastSeenAt !== null && r.lastSeenAt >= since) c.online++;
    else c.offline++;
    out.set(c.cluster, c);
  }
  return [...out.values()];
}

export async function handleMetrics(db: Db, req: Request, token: string | undefined): Promise<Response> {
  if (!authorized(req, token)) {
    return new Response("metrics need Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>\n", {
      status: 401,
      headers: { "content-type": "text/plain; charset=utf-8", "www-authenticate": "Bearer" },
    });
  }
  attachMetricSources({ longPollsWaiting: totalWaiterCount, gateways: () => gatewaysByCluster(db) });
  const { registry } = consoleMetrics();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}

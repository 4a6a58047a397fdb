import { zHealthReport } from "../../core/protocol/health-report";
import type { Db } from "../db";
import { authenticateAgent } from "../services/gateways/agent-auth";
import { errorResponse, guarded, json, metaOf, readJsonBody } from "./agent-api";
import { bearerToken } from "../services/gateways/tokens";
import { recordHealthReport } from "../services/failover/health-report";

/** POST /api/agent/v1/health: an agent's link health and failover events (core/protocol/health-report.ts). */
export function handleHealth(db: Db, req: Request): Promise<Response> {
  return guarded(req, "health", async () => {
    const token = bearerToken(req.headers.get("authorization"), "agent");
    if (token === null) return errorResponse(401, "An agent token is required: Authorization: Bearer gha_...");
    // a wrong token is a 401 whatever the body holds
    await authenticateAgent(db, token);
    const body = await readJsonBody(req, zHealthReport);
    return json(200, await recordHealthReport(db, metaOf(req), token, body));
  });
}

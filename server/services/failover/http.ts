import { zHealthReport } from "../../../agent/health/report";
import type { Db } from "../../db";
import { authenticateAgent } from "../gateways/agent-auth";
import { errorResponse, guarded, json, metaOf, readJsonBody } from "../gateways/http";
import { bearerToken } from "../gateways/tokens";
import { recordHealthReport } from "./health-report";

/** POST /api/agent/v1/health: an agent's link health and failover events (agent/health/report.ts). */
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

import type { Db } from "../../db";
import { AppError } from "../../errors";
import type { EnrollRequest, EnrollResponse } from "../../../core/protocol/agent-api";
import { type RequestMeta, recordAudit } from "../audit/record";
import { agentActor } from "./agent-auth";
import { hashToken, newToken } from "./tokens";

const unauthorized = (why: string) => new AppError("UNAUTHORIZED", why);

/** Rejects an unknown, used or expired enrollment token before the request body is even read. */
export async function checkEnrollToken(db: Db, enrollToken: string, now = new Date()): Promise<void> {
  const gw = await db.gateway.findUnique({
    where: { enrollTokenHash: hashToken(enrollToken) },
    select: { enrollExpiresAt: true },
  });
  if (!gw) throw unknownToken();
  if (gw.enrollExpiresAt === null || gw.enrollExpiresAt.getTime() <= now.getTime()) throw expiredToken();
}

const unknownToken = () =>
  unauthorized("The enrollment token is unknown or was already used; ask an admin for a new one");
const expiredToken = () => unauthorized("The enrollment token has expired; ask an admin to issue a new one");

/**
 * Trades a one-time enrollment token for a long-lived agent token. The enrollment token is
 * consumed in the same statement that installs the agent token, so two agents racing with one
 * token cannot both enroll. A gateway that enrolls again (after an admin issued a new enrollment
 * token) replaces its agent token.
 */
export async function enrollGateway(
  db: Db,
  meta: RequestMeta,
  enrollToken: string | null,
  input: EnrollRequest,
  now = new Date(),
): Promise<EnrollResponse> {
  if (enrollToken === null) throw unauthorized("An enrollment token is required (Authorization: Bearer ghe_...)");
  const enrollHash = hashToken(enrollToken);
  const agentToken = newToken("agent");
  return db.$transaction(async (tx) => {
    const gw = await tx.gateway.findUnique({
      where: { enrollTokenHash: enrollHash },
      select: {
        id: true,
        name: true,
        clusterId: true,
        enrollExpiresAt: true,
        tokenHash: true,
        cluster: { select: { name: true } },
      },
    });
    if (!gw) throw unknownToken();
    if (gw.enrollExpiresAt === null || gw.enrollExpiresAt.getTime() <= now.getTime()) throw expiredToken();
    const { count } = await tx.gateway.updateMany({
      where: { id: gw.id, enrollTokenHash: enrollHash },
      data: {
        tokenHash: hashToken(agentToken),
        enrollTokenHash: null,
        enrollExpiresAt: null,
        agentVersion: input.agentVersion,
        facts: input.facts === undefined ? undefined : JSON.stringify(input.facts),
        lastSeenAt: now,
        version: { increment: 1 },
      },
    });
    if (count === 0) throw unauthorized("The enrollment token was used at the same moment by another agent");
    await recordAudit(tx, {
      actor: agentActor(gw),
      meta,
      action: "gateway.enroll",
      clusterId: gw.clusterId,
      targetType: "gateway",
      targetId: gw.id,
      after: {
        agentVersion: input.agentVersion,
        hostname: input.facts?.hostname ?? "",
        replacedAgentToken: gw.tokenHash !== null,
      },
    });
    return {
      gatewayId: gw.id,
      gatewayName: gw.name,
      clusterId: gw.clusterId,
      clusterName: gw.cluster.name,
      agentToken,
    };
  });
}

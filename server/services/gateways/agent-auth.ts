import type { Db, Tx } from "../../db";
import { AppError } from "../../errors";
import type { Actor } from "../audit/record";
import { hashToken } from "./tokens";

/** The gateway an agent token belongs to, or an UNAUTHORIZED error that does not say which check failed. */
export async function authenticateAgent(db: Db | Tx, token: string | null) {
  const gw =
    token === null
      ? null
      : await db.gateway.findUnique({
          where: { tokenHash: hashToken(token) },
          select: { id: true, name: true, clusterId: true },
        });
  if (!gw) {
    throw new AppError("UNAUTHORIZED", "The agent token is not valid: it is unknown or was revoked or replaced");
  }
  return gw;
}

export const agentActor = (gw: { id: string; name: string }): Actor => ({ type: "agent", id: gw.id, name: gw.name });

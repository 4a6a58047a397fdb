import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, isUniqueViolation, notFound } from "../../errors";
import { zId, zName } from "../../../core/policy/model";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { notifyClusterChanged } from "../cluster-changes/notifier";
import { connectionOf, syncOf } from "./state";
import { parseHaStatus } from "./ha-report";
import { ENROLL_TOKEN_HOURS, hashToken, newToken } from "./tokens";

/**
 * Gateways of a cluster as admins manage them: add one (and get its one-time enrollment token),
 * issue a new enrollment token, revoke its credentials, delete it.
 */

/** A host name, an IPv4 or an IPv6 address: what an operator would ssh to. */
export const zManagementAddress = z
  .string()
  .trim()
  .max(253, "must be at most 253 characters")
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.:_-]*[A-Za-z0-9])?$/, "must be a host name or an IP address")
  .or(z.literal(""));

export const zGatewayCreate = z.object({
  clusterId: zId,
  name: zName,
  address: zManagementAddress.default(""),
});
export type GatewayCreate = z.infer<typeof zGatewayCreate>;

export const zGatewayRotate = z.object({
  id: zId,
  /** also invalidate the agent token in use now (a suspected leak); otherwise it works until re-enrollment */
  revokeCurrent: z.boolean().default(false),
});

const GATEWAY_SELECT = {
  id: true,
  clusterId: true,
  name: true,
  address: true,
  tokenHash: true,
  enrollTokenHash: true,
  enrollExpiresAt: true,
  lastSeenAt: true,
  agentVersion: true,
  appliedRevision: true,
  appliedEpoch: true,
  lastApplyOk: true,
  lastApplyError: true,
  lastApplyAt: true,
  facts: true,
  health: true,
  haStatus: true,
  drained: true,
  createdAt: true,
  updatedAt: true,
} as const;

type GatewayRow = {
  id: string;
  clusterId: string;
  name: string;
  address: string;
  tokenHash: string | null;
  enrollTokenHash: string | null;
  enrollExpiresAt: Date | null;
  lastSeenAt: Date | null;
  agentVersion: string;
  appliedRevision: number | null;
  appliedEpoch: number | null;
  lastApplyOk: boolean | null;
  lastApplyError: string;
  lastApplyAt: Date | null;
  facts: string;
  health: string;
  haStatus: string | null;
  drained: boolean;
  createdAt: Date;
  updatedAt: Date;
};

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What the UI and API see of a gateway: never a token hash. */
export function presentGateway(row: GatewayRow, published: { revision: number; failoverEpoch: number }, now: Date) {
  const { tokenHash, enrollTokenHash, facts, health, haStatus, ...rest } = row;
  const stateInput = {
    ...row,
    hasAgentToken: tokenHash !== null,
    hasEnrollToken: enrollTokenHash !== null,
  };
  return {
    ...rest,
    hasAgentToken: tokenHash !== null,
    enrollmentPending: enrollTokenHash !== null,
    connection: connectionOf(stateInput, now),
    sync: syncOf(stateInput, published),
    facts: parseJsonObject(facts),
    health: parseJsonObject(health),
    ha: parseHaStatus(haStatus),
  };
}
export type PresentedGateway = ReturnType<typeof presentGateway>;

async function publishedOf(db: Db | Tx, clusterId: string) {
  const c = await db.cluster.findUnique({
    where: { id: clusterId },
    select: { publishedRevision: true, failoverEpoch: true },
  });
  if (!c) throw notFound("The cluster");
  return { revision: c.publishedRevision, failoverEpoch: c.failoverEpoch };
}

export async function listGateways(db: Db, clusterId: string, now = new Date()) {
  const published = await publishedOf(db, clusterId);
  const rows = await db.gateway.findMany({ where: { clusterId }, select: GATEWAY_SELECT, orderBy: { name: "asc" } });
  return { published, gateways: rows.map((r) => presentGateway(r, published, now)) };
}

export async function getGatewayOrThrow(db: Db | Tx, id: string) {
  const row = await db.gateway.findUnique({ where: { id }, select: GATEWAY_SELECT });
  if (!row) throw notFound("The gateway");
  return row;
}

export async function getGateway(db: Db, id: string, now = new Date()) {
  const row = await getGatewayOrThrow(db, id);
  return presentGateway(row, await publishedOf(db, row.clusterId), now);
}

/**
 * A gateway joined or left: the pool slices of every gateway may move, so the cluster's desired
 * state gets a new name (the failover epoch counts every change of desired state that is not a
 * publish) and every agent's long poll hands over its new spec. Before the first publish no agent
 * holds a spec, so there is nothing to advance.
 */
async function advanceMembership(tx: Tx, clusterId: string) {
  await tx.cluster.updateMany({
    where: { id: clusterId, publishedRevision: { gt: 0 } },
    data: { failoverEpoch: { increment: 1 } },
  });
}

function enrollmentGrant(now: Date) {
  const enrollToken = newToken("enroll");
  const enrollExpiresAt = new Date(now.getTime() + ENROLL_TOKEN_HOURS * 3600_000);
  return { enrollToken, enrollExpiresAt, enrollTokenHash: hashToken(enrollToken) };
}

/** Adds a gateway and returns its enrollment token: the only time the token is shown. */
export async function createGateway(db: Db, actor: Actor, meta: RequestMeta, input: GatewayCreate) {
  const now = new Date();
  const grant = enrollmentGrant(now);
  try {
    const created = await db.$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, input.clusterId);
      const gw = await tx.gateway.create({
        data: {
          clusterId: input.clusterId,
          name: input.name,
          address: input.address,
          enrollTokenHash: grant.enrollTokenHash,
          enrollExpiresAt: grant.enrollExpiresAt,
        },
        select: { id: true, name: true },
      });
      await advanceMembership(tx, cluster.id);
      await recordAudit(tx, {
        actor,
        meta,
        action: "gateway.create",
        clusterId: cluster.id,
        targetType: "gateway",
        targetId: gw.id,
        after: { name: input.name, address: input.address, enrollExpiresAt: grant.enrollExpiresAt.toISOString() },
      });
      return { id: gw.id, name: gw.name, enrollToken: grant.enrollToken, enrollExpiresAt: grant.enrollExpiresAt };
    });
    notifyClusterChanged(input.clusterId);
    return created;
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`The cluster already has a gateway named "${input.name}"`);
    throw e;
  }
}

/**
 * Issues a new enrollment token (any earlier unused one stops working). The agent token in use
 * keeps working until the agent enrolls with the new token, so rotating never cuts a running
 * gateway off; `revokeCurrent` cuts it off at once, for a token that may have leaked.
 */
export async function rotateGatewayToken(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: z.infer<typeof zGatewayRotate>,
) {
  const grant = enrollmentGrant(new Date());
  return db.$transaction(async (tx) => {
    const before = await getGatewayOrThrow(tx, input.id);
    await tx.gateway.update({
      where: { id: input.id },
      data: {
        enrollTokenHash: grant.enrollTokenHash,
        enrollExpiresAt: grant.enrollExpiresAt,
        tokenHash: input.revokeCurrent ? null : undefined,
        version: { increment: 1 },
      },
      select: { id: true },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.rotate_token",
      clusterId: before.clusterId,
      targetType: "gateway",
      targetId: before.id,
      before: { name: before.name, hadAgentToken: before.tokenHash !== null },
      after: {
        enrollExpiresAt: grant.enrollExpiresAt.toISOString(),
        agentTokenRevoked: input.revokeCurrent && before.tokenHash !== null,
      },
    });
    return { id: before.id, name: before.name, enrollToken: grant.enrollToken, enrollExpiresAt: grant.enrollExpiresAt };
  });
}

/** Invalidates every credential of the gateway: its agent token and any unused enrollment token. */
export async function revokeGateway(db: Db, actor: Actor, meta: RequestMeta, input: { id: string }) {
  await db.$transaction(async (tx) => {
    const before = await getGatewayOrThrow(tx, input.id);
    if (before.tokenHash === null && before.enrollTokenHash === null) {
      throw conflict(`Gateway "${before.name}" has no credentials to revoke`);
    }
    await tx.gateway.update({
      where: { id: input.id },
      data: { tokenHash: null, enrollTokenHash: null, enrollExpiresAt: null, version: { increment: 1 } },
      select: { id: true },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.revoke",
      clusterId: before.clusterId,
      targetType: "gateway",
      targetId: before.id,
      before: {
        name: before.name,
        hadAgentToken: before.tokenHash !== null,
        hadEnrollToken: before.enrollTokenHash !== null,
      },
    });
  });
}

/** Forgets the gateway. Its datapath keeps the last rules it applied (fail-static) until someone stops the agent. */
export async function deleteGateway(db: Db, actor: Actor, meta: RequestMeta, input: { id: string }) {
  const clusterId = await db.$transaction(async (tx) => {
    const before = await getGatewayOrThrow(tx, input.id);
    await tx.gateway.delete({ where: { id: input.id }, select: { id: true } });
    await advanceMembership(tx, before.clusterId);
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.delete",
      clusterId: before.clusterId,
      targetType: "gateway",
      targetId: before.id,
      before: {
        name: before.name,
        address: before.address,
        appliedRevision: before.appliedRevision,
        agentVersion: before.agentVersion,
      },
    });
    return before.clusterId;
  });
  notifyClusterChanged(clusterId);
}

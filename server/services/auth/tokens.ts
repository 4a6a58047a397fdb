import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../../db";
import { conflict, isUniqueViolation, notFound } from "../../errors";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { type Role, zRole } from "./roles";

/**
 * API tokens for scripts and the command line. A token is 32 random bytes, shown once at
 * creation; only its sha256 is stored. A token carries a role and an expiry, can be revoked, and
 * every request made with it is audited under the token's name.
 */

export const TOKEN_PREFIX = "ghp_";

export interface TokenUser {
  tokenId: string;
  name: string;
  role: Role;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export const zTokenCreate = z.object({
  name: z
    .string()
    .trim()
    .min(1, "is required")
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may contain only letters, digits, '.', '_' and '-'"),
  role: zRole,
  expiresInDays: z.number().int().min(1, "must be at least 1 day").max(730, "must be at most 2 years"),
});

export async function createToken(db: Db, actor: Actor, meta: RequestMeta, input: z.infer<typeof zTokenCreate>) {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86_400_000);
  try {
    const row = await db.$transaction(async (tx) => {
      const created = await tx.apiToken.create({
        data: {
          name: input.name,
          tokenHash: sha256(token),
          role: input.role,
          createdById: actor.id,
          createdByName: actor.name,
          expiresAt,
        },
        select: { id: true, name: true, role: true, expiresAt: true, createdAt: true },
      });
      await recordAudit(tx, {
        actor,
        meta,
        action: "token.create",
        targetType: "token",
        targetId: created.id,
        after: { name: created.name, role: created.role, expiresAt: created.expiresAt.toISOString() },
      });
      return created;
    });
    // the only time the token itself leaves the server
    return { ...row, token };
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A token named "${input.name}" already exists`);
    throw e;
  }
}

export async function listTokens(db: Db) {
  const rows = await db.apiToken.findMany({
    select: {
      id: true,
      name: true,
      role: true,
      createdByName: true,
      createdAt: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
    },
    orderBy: { createdAt: "desc" },
  });
  const now = Date.now();
  return rows.map((r) => ({
    ...r,
    state: r.revokedAt
      ? ("revoked" as const)
      : r.expiresAt.getTime() <= now
        ? ("expired" as const)
        : ("active" as const),
  }));
}

export async function revokeToken(db: Db, actor: Actor, meta: RequestMeta, id: string) {
  await db.$transaction(async (tx) => {
    const row = await tx.apiToken.findUnique({ where: { id }, select: { id: true, name: true, revokedAt: true } });
    if (!row) throw notFound(`Token ${id}`);
    if (row.revokedAt) throw conflict(`Token "${row.name}" is already revoked`);
    await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() }, select: { id: true } });
    await recordAudit(tx, {
      actor,
      meta,
      action: "token.revoke",
      targetType: "token",
      targetId: id,
      before: { name: row.name },
    });
  });
  return { ok: true };
}

/** The token's identity, or null when it is unknown, revoked or expired. */
export async function readBearer(db: Db, token: string): Promise<TokenUser | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: sha256(token) },
    select: { id: true, name: true, role: true, expiresAt: true, revokedAt: true },
  });
  if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) return null;
  return { tokenId: row.id, name: row.name, role: row.role as Role };
}

/** The actor a token's requests are recorded as. */
export const tokenActor = (t: TokenUser): Actor => ({
  type: "user",
  id: `token:${t.tokenId}`,
  name: `token:${t.name}`,
});

/** Every use is audited: the procedure called, under the token's name; and the token's last use is kept. */
export async function recordTokenUse(db: Db, t: TokenUser, meta: RequestMeta, path: string) {
  await db.$transaction(async (tx) => {
    await tx.apiToken.update({ where: { id: t.tokenId }, data: { lastUsedAt: new Date() }, select: { id: true } });
    await recordAudit(tx, { actor: tokenActor(t), meta, action: "token.use", targetType: "procedure", targetId: path });
  });
}

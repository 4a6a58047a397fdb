import { z } from "zod";
import type { Db } from "../../db";
import { AppError, conflict, isUniqueViolation, notFound, staleVersion } from "../../errors";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { hashPassword, verifyPassword, zPassword } from "./password";
import { zRole } from "./roles";
import { deleteUserSessions } from "./sessions";
import { usernameKey, zUsername } from "./username";

export { zUsername };

export const zUserCreate = z.object({ username: zUsername, password: zPassword, role: zRole });
export const zUserUpdate = z.object({
  id: z.string().min(1).max(64),
  version: z.number().int().min(1),
  role: zRole.optional(),
  disabled: z.boolean().optional(),
  password: zPassword.optional(),
});

export const USER_SELECT = {
  id: true,
  username: true,
  role: true,
  disabled: true,
  createdAt: true,
  version: true,
} as const;

export function listUsers(db: Db) {
  return db.user.findMany({ select: USER_SELECT, orderBy: { username: "asc" } });
}

export async function createUser(db: Db, actor: Actor, meta: RequestMeta, input: z.infer<typeof zUserCreate>) {
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { username: input.username, usernameKey: usernameKey(input.username), role: input.role, passwordHash },
        select: USER_SELECT,
      });
      await recordAudit(tx, {
        actor,
        meta,
        action: "user.create",
        targetType: "user",
        targetId: user.id,
        after: { username: user.username, role: user.role },
      });
      return user;
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError("CONFLICT", `A user named "${input.username}" already exists (names ignore case)`, [
        { path: ["username"], message: "is taken (names ignore case)" },
      ]);
    }
    throw e;
  }
}

/** Keeps at least one enabled admin, so nobody can lock everyone out of user management. */
async function assertAdminRemains(db: Pick<Db, "user">, changedId: string) {
  const admins = await db.user.count({ where: { role: "admin", disabled: false, id: { not: changedId } } });
  if (admins === 0) throw conflict("This is the last enabled admin; make another user admin first");
}

export async function updateUser(db: Db, actor: Actor, meta: RequestMeta, input: z.infer<typeof zUserUpdate>) {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  return db.$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { id: input.id }, select: USER_SELECT });
    if (!before) throw notFound("The user");
    if ((input.role && input.role !== "admin") || input.disabled) {
      if (before.role === "admin") await assertAdminRemains(tx, input.id);
    }
    const { count } = await tx.user.updateMany({
      where: { id: input.id, version: input.version },
      data: {
        role: input.role,
        disabled: input.disabled,
        passwordHash,
        version: { increment: 1 },
      },
    });
    if (count === 0) throw staleVersion(`User "${before.username}"`);
    const after = await tx.user.findUniqueOrThrow({ where: { id: input.id }, select: USER_SELECT });
    await recordAudit(tx, {
      actor,
      meta,
      action: "user.update",
      targetType: "user",
      targetId: input.id,
      before: { role: before.role, disabled: before.disabled },
      after: { role: after.role, disabled: after.disabled, passwordChanged: passwordHash !== undefined },
    });
    if (after.disabled || passwordHash) await tx.session.deleteMany({ where: { userId: input.id } });
    return after;
  });
}

export async function deleteUser(db: Db, actor: Actor, meta: RequestMeta, input: { id: string; version: number }) {
  if (input.id === actor.id) throw conflict("You cannot delete your own account");
  await db.$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { id: input.id }, select: USER_SELECT });
    if (!before) throw notFound("The user");
    if (before.role === "admin") await assertAdminRemains(tx, input.id);
    const { count } = await tx.user.deleteMany({ where: { id: input.id, version: input.version } });
    if (count === 0) throw staleVersion(`User "${before.username}"`);
    await recordAudit(tx, {
      actor,
      meta,
      action: "user.delete",
      targetType: "user",
      targetId: input.id,
      before: { username: before.username, role: before.role },
    });
  });
}

export async function changeOwnPassword(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: { currentPassword: string; newPassword: string },
) {
  const user = await db.user.findUnique({ where: { id: actor.id }, select: { passwordHash: true } });
  if (!user || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError("INVALID", "The current password is wrong", [
      { path: ["currentPassword"], message: "is wrong" },
    ]);
  }
  const passwordHash = await hashPassword(input.newPassword);
  await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: actor.id }, data: { passwordHash, version: { increment: 1 } } });
    await recordAudit(tx, { actor, meta, action: "user.password_change", targetType: "user", targetId: actor.id });
  });
  await deleteUserSessions(db, actor.id);
}

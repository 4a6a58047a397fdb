import { randomBytes } from "node:crypto";
import type { Db } from "../../db";
import { AppError, notFound } from "../../errors";
import { recordAudit, SYSTEM_META } from "../audit/record";
import { hashPassword, zPassword } from "./password";
import { clearLoginLimits } from "./throttle";
import { usernameKey } from "./username";

export interface ResetPasswordResult {
  username: string;
  /** set when the password was generated here: the caller shows it once */
  generatedPassword: string | null;
  enabled: boolean;
}

/**
 * For an admin locked out or without a password, run on the console's host against the database: sets a new
 * password (given, or generated), ends the account's sessions, clears its sign-in counts and locks from every
 * address, and with `enable` enables a disabled account again. Audited as the system.
 */
export async function resetPassword(
  db: Db,
  username: string,
  opts: { password?: string; enable?: boolean } = {},
): Promise<ResetPasswordResult> {
  if (opts.password !== undefined) {
    const checked = zPassword.safeParse(opts.password);
    if (!checked.success) {
      const message = checked.error.issues[0]?.message ?? "is invalid";
      throw new AppError("INVALID", `The new password ${message}`, [{ path: ["password"], message }]);
    }
  }
  const generated = opts.password === undefined ? randomBytes(15).toString("base64url") : null;
  const passwordHash = await hashPassword(opts.password ?? generated ?? "");
  const user = await db.$transaction(async (tx) => {
    const found = await tx.user.findUnique({
      where: { usernameKey: usernameKey(username) },
      select: { id: true, username: true, disabled: true },
    });
    if (!found) throw notFound(`A user named "${username}"`);
    const disabled = opts.enable ? false : found.disabled;
    await tx.user.update({
      where: { id: found.id },
      data: { passwordHash, disabled, version: { increment: 1 } },
      select: { id: true },
    });
    await tx.session.deleteMany({ where: { userId: found.id } });
    await recordAudit(tx, {
      actor: { type: "system", id: "", name: "admin reset-password" },
      meta: SYSTEM_META,
      action: "user.password_reset",
      targetType: "user",
      targetId: found.id,
      before: { disabled: found.disabled },
      after: { disabled, passwordChanged: true, lockoutCleared: true },
    });
    return { username: found.username, enabled: !disabled };
  });
  await clearLoginLimits(db, user.username);
  return { ...user, generatedPassword: generated };
}

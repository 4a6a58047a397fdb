import { randomBytes } from "node:crypto";
import type { Db } from "../../db";
import { recordAudit, SYSTEM_META } from "../audit/record";
import { hashPassword } from "./password";
import { usernameKey } from "./username";

export type BootstrapResult =
  | { created: false }
  | { created: true; username: string; generatedPassword: string | null };

/**
 * Creates the first admin when there are no users at all. The password comes from the
 * environment, or is generated here and returned so the caller prints it exactly once.
 */
export async function ensureFirstAdmin(
  db: Db,
  username: string,
  password: string | undefined,
): Promise<BootstrapResult> {
  if ((await db.user.count()) > 0) return { created: false };
  const generated = password === undefined ? randomBytes(15).toString("base64url") : null;
  const passwordHash = await hashPassword(password ?? generated ?? "");
  const created = await db.$transaction(async (tx) => {
    // a second console replica starting at the same moment must not add a second admin
    if ((await tx.user.count()) > 0) return false;
    const user = await tx.user.create({
      data: { username, usernameKey: usernameKey(username), passwordHash, role: "admin" },
      select: { id: true },
    });
    await recordAudit(tx, {
      actor: { type: "system", id: "", name: "system" },
      meta: SYSTEM_META,
      action: "user.create",
      targetType: "user",
      targetId: user.id,
      after: { username, role: "admin", firstAdmin: true },
    });
    return true;
  });
  return created ? { created: true, username, generatedPassword: generated } : { created: false };
}

import type { Db } from "../../db";
import { AppError } from "../../errors";
import { recordAudit, type RequestMeta } from "../audit/record";
import { dummyPasswordHash, verifyPassword } from "./password";
import type { Role } from "./roles";
import { createSession } from "./sessions";
import { assertNotThrottled, clearUserFailures, recordFailure } from "./throttle";

export interface LoginResult {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: { id: string; username: string; role: Role };
}

const WRONG = "Wrong user name or password.";

export async function login(
  db: Db,
  input: { username: string; password: string },
  meta: RequestMeta,
  sessionHours: number,
): Promise<LoginResult> {
  await assertNotThrottled(db, input.username, meta.ip);
  const user = await db.user.findUnique({
    where: { username: input.username },
    select: { id: true, username: true, role: true, disabled: true, passwordHash: true },
  });
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), input.password);
  if (!user || !ok || user.disabled) {
    await recordFailure(db, input.username, meta.ip);
    await db.$transaction((tx) =>
      recordAudit(tx, {
        actor: { type: "user", id: user?.id ?? "", name: input.username.slice(0, 64) },
        meta,
        action: "auth.login_failed",
        targetType: "user",
        targetId: user?.id ?? "",
        after: { reason: !user ? "unknown user" : user.disabled ? "account disabled" : "wrong password" },
      }),
    );
    throw new AppError("UNAUTHORIZED", user?.disabled && ok ? "This account is disabled." : WRONG);
  }
  await clearUserFailures(db, user.username);
  const session = await createSession(db, user.id, sessionHours, meta);
  await db.$transaction((tx) =>
    recordAudit(tx, {
      actor: { type: "user", id: user.id, name: user.username },
      meta,
      action: "auth.login",
      targetType: "user",
      targetId: user.id,
    }),
  );
  return { ...session, user: { id: user.id, username: user.username, role: user.role as Role } };
}

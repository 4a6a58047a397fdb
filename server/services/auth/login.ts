import type { Db } from "../../db";
import { AppError } from "../../errors";
import { recordAudit, type RequestMeta } from "../audit/record";
import { dummyPasswordHash, verifyPassword } from "./password";
import type { Role } from "./roles";
import { createSession } from "./sessions";
import { attemptFailed, attemptSucceeded, reserveAttempt, slowDownMs } from "./throttle";
import { usernameKey } from "./username";

export interface LoginResult {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: { id: string; username: string; role: Role };
}

const WRONG = "Wrong user name or password.";

/**
 * Signs in. Every failure answers the same (unknown name, wrong password, disabled account with the right
 * password) after the same work (one password hash check), so neither the text nor the timing tells them apart.
 */
export async function login(
  db: Db,
  input: { username: string; password: string },
  meta: RequestMeta,
  sessionHours: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<LoginResult> {
  await reserveAttempt(db, input.username, meta.ip);
  const delay = await slowDownMs(db, input.username);
  if (delay > 0) await sleep(delay);
  const user = await db.user.findUnique({
    where: { usernameKey: usernameKey(input.username) },
    select: { id: true, username: true, role: true, disabled: true, passwordHash: true },
  });
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), input.password);
  if (!user || !ok || user.disabled) {
    await attemptFailed(db, input.username);
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
    throw new AppError("UNAUTHORIZED", WRONG);
  }
  await attemptSucceeded(db, input.username, meta.ip);
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

import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../../db";
import type { Role } from "./roles";

export const SESSION_COOKIE = "gh_session";
/** Readable by the page script, sent back in the x-csrf-token header of every mutation. */
export const CSRF_COOKIE = "gh_csrf";

export interface SessionUser {
  sessionId: string;
  csrfToken: string;
  userId: string;
  username: string;
  role: Role;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export async function createSession(
  db: Db,
  userId: string,
  hours: number,
  meta: { ip: string; userAgent: string },
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const expiresAt = new Date(Date.now() + hours * 3600_000);
  await db.session.create({
    data: { id: sha256(token), userId, csrfToken, expiresAt, ip: meta.ip, userAgent: meta.userAgent.slice(0, 400) },
    select: { id: true },
  });
  return { token, csrfToken, expiresAt };
}

/** Resolves a cookie token to its user; expired sessions and disabled users resolve to null. */
export async function readSession(db: Db, token: string | undefined): Promise<SessionUser | null> {
  if (!token || token.length > 200) return null;
  const id = sha256(token);
  const row = await db.session.findUnique({
    where: { id },
    select: {
      id: true,
      csrfToken: true,
      expiresAt: true,
      lastSeenAt: true,
      user: { select: { id: true, username: true, role: true, disabled: true } },
    },
  });
  if (!row || row.user.disabled) return null;
  if (row.expiresAt.getTime() <= Date.now()) {
    await db.session.deleteMany({ where: { id } });
    return null;
  }
  // touch at most once a minute: reads stay cheap
  if (Date.now() - row.lastSeenAt.getTime() > 60_000) {
    await db.session.updateMany({ where: { id }, data: { lastSeenAt: new Date() } });
  }
  return {
    sessionId: row.id,
    csrfToken: row.csrfToken,
    userId: row.user.id,
    username: row.user.username,
    role: row.user.role as Role,
  };
}

export async function deleteSession(db: Db, sessionId: string): Promise<void> {
  await db.session.deleteMany({ where: { id: sessionId } });
}

export async function deleteUserSessions(db: Db, userId: string): Promise<void> {
  await db.session.deleteMany({ where: { userId } });
}

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { env } from "../../env";
import { recordAudit } from "../../services/audit/record";
import { login } from "../../services/auth/login";
import { zPassword } from "../../services/auth/password";
import { CSRF_COOKIE, deleteSession, SESSION_COOKIE } from "../../services/auth/sessions";
import { changeOwnPassword } from "../../services/auth/users";
import { zUsername } from "../../services/auth/username";
import { authedProcedure, publicProcedure, router } from "../init";

const secure = env.GATEHOUSE_PUBLIC_URL?.startsWith("https:") ?? false;

function cookie(name: string, value: string, opts: { httpOnly: boolean; maxAge: number }) {
  return [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    "SameSite=Lax",
    `Max-Age=${opts.maxAge}`,
    opts.httpOnly ? "HttpOnly" : "",
    secure ? "Secure" : "",
  ]
    .filter(Boolean)
    .join("; ");
}

export const authRouter = router({
  login: publicProcedure
    .input(
      z.object({
        username: zUsername,
        password: z.string().min(1, "is required").max(200),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (!ctx.sameOrigin) throw new TRPCError({ code: "FORBIDDEN", message: "Sign-in from another site is refused." });
      const result = await login(ctx.db, input, ctx.meta, env.GATEHOUSE_SESSION_HOURS);
      const maxAge = Math.floor((result.expiresAt.getTime() - Date.now()) / 1000);
      ctx.resHeaders.append("Set-Cookie", cookie(SESSION_COOKIE, result.token, { httpOnly: true, maxAge }));
      ctx.resHeaders.append("Set-Cookie", cookie(CSRF_COOKIE, result.csrfToken, { httpOnly: false, maxAge }));
      return { user: result.user, csrfToken: result.csrfToken };
    }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    await deleteSession(ctx.db, ctx.session.sessionId);
    await ctx.db.$transaction((tx) =>
      recordAudit(tx, {
        actor: ctx.actor,
        meta: ctx.meta,
        action: "auth.logout",
        targetType: "user",
        targetId: ctx.actor.id,
      }),
    );
    ctx.resHeaders.append("Set-Cookie", cookie(SESSION_COOKIE, "", { httpOnly: true, maxAge: 0 }));
    ctx.resHeaders.append("Set-Cookie", cookie(CSRF_COOKIE, "", { httpOnly: false, maxAge: 0 }));
    return { ok: true };
  }),

  /** The signed-in user, or null: pages use it to decide between the console and the sign-in form. */
  me: publicProcedure.query(({ ctx }) =>
    ctx.session
      ? {
          id: ctx.session.userId,
          username: ctx.session.username,
          role: ctx.session.role,
          csrfToken: ctx.session.csrfToken,
        }
      : null,
  ),

  changePassword: authedProcedure
    .input(z.object({ currentPassword: z.string().min(1).max(200), newPassword: zPassword }))
    .mutation(async ({ ctx, input }) => {
      await changeOwnPassword(ctx.db, ctx.actor, ctx.meta, input);
      return { ok: true };
    }),
});

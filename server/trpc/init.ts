import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { APP_ERROR_TRANSPORT, AppError, type FieldIssue, invalid } from "../errors";
import { badTextMessage, findBadText } from "../input";
import { logger } from "../log";
import type { Actor } from "../services/audit/record";
import { type Role, roleAtLeast } from "../services/auth/roles";
import { recordTokenUse, tokenActor } from "../services/auth/tokens";
import type { Context } from "./context";

/** The whole input has the wrong type (`{"json":null}`, a string...): say what a procedure takes. */
function wholeInputMessage(issue: { expected?: unknown; message: string }): string {
  const received = /received (\w+)/.exec(issue.message)?.[1];
  const expected = issue.expected === "object" ? "an object with this procedure's fields" : `of type ${issue.expected}`;
  return `must be ${expected}${received ? `, not ${received}` : ""}`;
}

function fieldIssues(cause: unknown): FieldIssue[] {
  if (cause instanceof AppError) return cause.issues;
  if (cause instanceof ZodError) {
    return cause.issues.map((i) => ({
      path: i.path as (string | number)[],
      message: i.path.length === 0 && i.code === "invalid_type" ? wholeInputMessage(i) : i.message,
    }));
  }
  return [];
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const issues = fieldIssues(error.cause);
    // never show internals to a browser: unexpected errors get a generic message
    const message =
      error.code === "INTERNAL_SERVER_ERROR"
        ? "Something went wrong on the server; the change was not saved. The server log has the details."
        : error.cause instanceof ZodError
          ? `Invalid input: ${issues
              .slice(0, 3)
              .map((i) => `${i.path.join(".") || "input"} ${i.message}`)
              .join("; ")}`
          : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined, issues } };
  },
});

/** Turns service errors into tRPC errors carrying the original as cause; logs the unexpected. */
const errorMapping = t.middleware(async ({ next, path, ctx }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      result.error = new TRPCError({ code: APP_ERROR_TRANSPORT[cause.code].trpc, message: cause.message, cause });
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      logger.error(
        { err: result.error.cause ?? result.error, path, requestId: ctx.meta.requestId },
        "procedure failed",
      );
    }
  }
  return result;
});

/** NUL characters and lone surrogates are refused for every procedure (server/input.ts says why). */
const refuseBadText = t.middleware(async ({ getRawInput, next }) => {
  const bad = findBadText(await getRawInput());
  if (bad !== null) {
    const message = badTextMessage(bad, "input");
    throw invalid(message, [{ path: bad.path, message }]);
  }
  return next();
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(errorMapping).use(refuseBadText);

/**
 * Signed in; mutations must carry the session's CSRF token and come from the console's own origin.
 * Scripts authenticate with an API token instead (Authorization: Bearer): CSRF concerns cookies a
 * browser sends by itself, which a bearer request does not use; every bearer call is audited.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, type, path, next }) => {
  if (ctx.apiToken === "invalid") {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "The API token is unknown, revoked or expired." });
  }
  if (ctx.apiToken) {
    const t = ctx.apiToken;
    await recordTokenUse(ctx.db, t, ctx.meta, path);
    const session = {
      sessionId: "",
      csrfToken: "",
      userId: `token:${t.tokenId}`,
      username: `token:${t.name}`,
      role: t.role,
    };
    return next({ ctx: { ...ctx, session, actor: tokenActor(t) } });
  }
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  if (type === "mutation" && (!ctx.sameOrigin || ctx.csrfHeader !== ctx.session.csrfToken)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "The request did not carry this session's CSRF token." });
  }
  const actor: Actor = { type: "user", id: ctx.session.userId, name: ctx.session.username };
  return next({ ctx: { ...ctx, session: ctx.session, actor } });
});

function withRole(role: Role) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!roleAtLeast(ctx.session.role, role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${role} role; you are ${ctx.session.role}.` });
    }
    return next();
  });
}

export const viewerProcedure = withRole("viewer");
export const operatorProcedure = withRole("operator");
export const adminProcedure = withRole("admin");

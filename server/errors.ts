import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";

/**
 * The one error type services throw. The transports map its codes with one table
 * (APP_ERROR_TRANSPORT): the tRPC error formatter and the plain HTTP handlers in server/http.
 */
export type AppErrorCode = "NOT_FOUND" | "CONFLICT" | "INVALID" | "FORBIDDEN" | "UNAUTHORIZED" | "RATE_LIMITED";

/** How each code travels: as a tRPC error code and as an HTTP status. */
export const APP_ERROR_TRANSPORT: Record<AppErrorCode, { trpc: TRPC_ERROR_CODE_KEY; http: number }> = {
  NOT_FOUND: { trpc: "NOT_FOUND", http: 404 },
  CONFLICT: { trpc: "CONFLICT", http: 409 },
  INVALID: { trpc: "BAD_REQUEST", http: 400 },
  FORBIDDEN: { trpc: "FORBIDDEN", http: 403 },
  UNAUTHORIZED: { trpc: "UNAUTHORIZED", http: 401 },
  RATE_LIMITED: { trpc: "TOO_MANY_REQUESTS", http: 429 },
};

export interface FieldIssue {
  /** field path inside the input, e.g. ["addresses", 2] */
  path: (string | number)[];
  message: string;
}

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly issues: FieldIssue[];

  constructor(code: AppErrorCode, message: string, issues: FieldIssue[] = []) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.issues = issues;
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} was not found`);

export const conflict = (message: string) => new AppError("CONFLICT", message);

export const invalid = (message: string, issues: FieldIssue[] = []) => new AppError("INVALID", message, issues);

/** Stale optimistic-concurrency version: somebody else changed the thing first. */
export const staleVersion = (what: string) =>
  conflict(`${what} was changed by someone else since you loaded it; reload to see their change, then try again`);

/** Prisma's unique-constraint violation, whichever store raised it. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "P2002";
}

export function isRecordNotFound(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "P2025";
}

/**
 * The one error type services throw. Only the tRPC layer maps codes to transport errors.
 */
export type AppErrorCode = "NOT_FOUND" | "CONFLICT" | "INVALID" | "FORBIDDEN" | "UNAUTHORIZED" | "RATE_LIMITED";

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

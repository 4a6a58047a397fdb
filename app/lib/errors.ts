import { isTRPCClientError } from "@trpc/client";

/** The message to show a person for a failed call. */
export function errorMessage(err: unknown): string {
  if (isTRPCClientError(err)) return err.message;
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}

/** Field messages keyed by dotted path ("addresses.2"), from the server's zod or service issues. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isTRPCClientError(err)) return out;
  const issues = (err.data as { issues?: { path: (string | number)[]; message: string }[] } | undefined)?.issues ?? [];
  for (const i of issues) {
    // API inputs wrap entity fields in "fields": forms address them without it
    const path = i.path[0] === "fields" ? i.path.slice(1) : i.path;
    const key = path.join(".");
    out[key] ??= i.message;
  }
  return out;
}

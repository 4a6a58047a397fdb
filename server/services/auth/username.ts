import { z } from "zod";

/** User names: ASCII letters, digits and a few marks, so that their lower case is unambiguous. */
export const zUsername = z
  .string()
  .trim()
  .min(1, "is required")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "may contain only letters, digits, '.', '_', '@' and '-'");

/**
 * The name as the database's unique key sees it: `Admin` and `admin` are one account, found by sign-in in
 * either case, while the account keeps the spelling it was created with.
 */
export const usernameKey = (username: string): string => username.toLowerCase();

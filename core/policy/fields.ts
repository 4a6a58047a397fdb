import { z } from "zod";
import { isIPv4 } from "../address";

/** The field shapes every entity of the policy shares (names, ids, addresses, ports). */

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const zId = z.string().regex(ID_RE, "must be an identifier");

/** Names shown to operators and used in nft comments: no quotes, no control characters. */
export const zName = z
  .string()
  .trim()
  .min(1, "is required")
  .max(64, "must be at most 64 characters")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/,
    "may contain only letters, digits, spaces, '.', '_' and '-', starting with a letter or digit",
  );

export const zComment = z
  .string()
  .max(500, "must be at most 500 characters")
  .refine((s) => !/[\u0000-\u001f\u007f"\\]/.test(s), "must not contain quotes, backslashes or control characters")
  .default("");

export const zIPv4 = z.string().trim().refine(isIPv4, "must be an IPv4 address such as 198.51.100.1");

export const zPort = z
  .number()
  .int("must be a whole number")
  .min(1, "must be 1 or more")
  .max(65535, "must be 65535 or less");

/** Linux interface names: 1-15 characters, no '/', whitespace, ':' or shell metacharacters. */
export const zInterfaceName = z
  .string()
  .min(1, "is required")
  .max(15, "must be at most 15 characters (the Linux limit)")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "may contain only letters, digits, '_', '.' and '-', starting with a letter or digit",
  )
  .refine((s) => s !== "." && s !== "..", "is not a valid interface name");

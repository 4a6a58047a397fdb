import { hash, verify } from "@node-rs/argon2";
import { z } from "zod";

/** argon2id with the library's defaults (19 MiB, t=2, p=1: OWASP's minimum for argon2id). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

export const zPassword = z
  .string()
  .min(12, "must be at least 12 characters")
  .max(200, "must be at most 200 characters");

/** A hash to verify against when the user does not exist, so timing does not reveal valid names. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("gatehouse-timing-equaliser");
  return dummyHash;
}

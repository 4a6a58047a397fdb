import { z } from "zod";

export const ROLES = ["viewer", "operator", "admin"] as const;
export const zRole = z.enum(ROLES);
export type Role = z.infer<typeof zRole>;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** viewer reads; operator also edits, publishes and fails over; admin also manages users and gateways. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * A real server's health as keepalived's checkers keep it: it starts up, goes down after `fall`
 * failed checks in a row and comes back after `rise` good ones in a row. Pure: the agent's checker
 * feeds it results and acts on the changes.
 */

export type RealServerHealth = "up" | "down";

export interface HealthCounter {
  health: RealServerHealth;
  /** failed checks in a row while up, good checks in a row while down */
  streak: number;
}

export const INITIAL_HEALTH: HealthCounter = { health: "up", streak: 0 };

export function nextHealth(
  current: HealthCounter,
  ok: boolean,
  limits: { rise: number; fall: number },
): { next: HealthCounter; changed: boolean } {
  if (current.health === "up") {
    if (ok) return { next: { health: "up", streak: 0 }, changed: false };
    const streak = current.streak + 1;
    if (streak >= limits.fall) return { next: { health: "down", streak: 0 }, changed: true };
    return { next: { health: "up", streak }, changed: false };
  }
  if (!ok) return { next: { health: "down", streak: 0 }, changed: false };
  const streak = current.streak + 1;
  if (streak >= limits.rise) return { next: { health: "up", streak: 0 }, changed: true };
  return { next: { health: "down", streak }, changed: false };
}

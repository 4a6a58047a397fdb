import { type HaStatus, zHaStatus } from "../../../core/protocol/agent-api";

/** A stored HA report, or null when there is none or it no longer parses (a newer agent's shape). */
export function parseHaStatus(text: string | null): HaStatus | null {
  if (text === null) return null;
  try {
    const r = zHaStatus.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

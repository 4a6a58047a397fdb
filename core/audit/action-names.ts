/**
 * Audit action names that were renamed. Audit rows are hash-chained, so rows written under an old
 * name keep it for ever: rewriting them would break the chain. New rows use the current name, and
 * everything that reads actions (the filter, the labels) treats an old name as its current one.
 */
const RENAMED_ACTIONS: Readonly<Record<string, string>> = {
  // "enrol" became "enroll" everywhere; the agent API and the gateway columns already said "enroll"
  "gateway.ssh_enrol_start": "gateway.ssh_enroll_start",
  "gateway.ssh_enrol": "gateway.ssh_enroll",
};

/** The current name of an action, whichever name its row was written with. */
export function currentActionName(action: string): string {
  return RENAMED_ACTIONS[action] ?? action;
}

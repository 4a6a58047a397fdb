/**
 * Tells listeners in this process that an agent of a cluster has just reported (status or health),
 * after the report's transaction committed. The alert service listens, so an incident is decided
 * (and its message sent) right after the report that shows it, not at the next periodic sweep.
 */
type Listener = (clusterId: string) => void;

// on globalThis so route handlers and tRPC share one list whatever bundle they sit in
const store = globalThis as unknown as { gatehouseAgentReportListeners?: Set<Listener> };
store.gatehouseAgentReportListeners ??= new Set<Listener>();
const listeners = store.gatehouseAgentReportListeners;

export function onAgentReport(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function agentReported(clusterId: string): void {
  for (const l of listeners) l(clusterId);
}

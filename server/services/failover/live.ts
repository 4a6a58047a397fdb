/**
 * Wakes the console's live health views when something about a cluster's links changed in this
 * process (a health report arrived, an operator failed an ISP over). Views on other replicas
 * notice within their polling interval; this only makes the local case immediate.
 */
interface Entry {
  generation: number;
  waiters: Set<() => void>;
}

// on globalThis so route handlers and tRPC share one notifier whatever bundle they sit in
const store = globalThis as unknown as { gatehouseLiveHealth?: Map<string, Entry> };
store.gatehouseLiveHealth ??= new Map<string, Entry>();
const clusters = store.gatehouseLiveHealth;

function entry(clusterId: string): Entry {
  let e = clusters.get(clusterId);
  if (e === undefined) {
    e = { generation: 0, waiters: new Set() };
    clusters.set(clusterId, e);
  }
  return e;
}

export function liveGeneration(clusterId: string): number {
  return clusters.get(clusterId)?.generation ?? 0;
}

export function notifyHealthChanged(clusterId: string): void {
  const e = entry(clusterId);
  e.generation++;
  const waiters = [...e.waiters];
  e.waiters.clear();
  for (const wake of waiters) wake();
}

/** Resolves when the cluster changed after `seen`, after `timeoutMs`, or when `signal` aborts. */
export function waitForHealthChange(
  clusterId: string,
  seen: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const e = entry(clusterId);
  if (e.generation !== seen || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      e.waiters.delete(done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    e.waiters.add(done);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Wakes long-polling agents the moment a cluster's desired state changes in this process. Each
 * cluster has a generation number: a waiter remembers the generation it saw before reading the
 * database, so a change that lands between that read and the wait is not missed. Changes made by
 * another console replica are not seen here; the long poll re-reads the database every few
 * seconds for those.
 */
type Wake = () => void;

interface ClusterWaiters {
  generation: number;
  waiters: Set<Wake>;
}

// kept on globalThis so that every bundle of the server (route handlers, tRPC) shares one notifier
const store = globalThis as unknown as { gatehouseGatewayWaiters?: Map<string, ClusterWaiters> };
store.gatehouseGatewayWaiters ??= new Map<string, ClusterWaiters>();
const clusters = store.gatehouseGatewayWaiters;

function entry(clusterId: string): ClusterWaiters {
  let e = clusters.get(clusterId);
  if (e === undefined) {
    e = { generation: 0, waiters: new Set() };
    clusters.set(clusterId, e);
  }
  return e;
}

export function clusterGeneration(clusterId: string): number {
  return clusters.get(clusterId)?.generation ?? 0;
}

/** Call after a transaction that changed what gateways of the cluster should run has committed. */
export function notifyClusterChanged(clusterId: string): void {
  const e = entry(clusterId);
  e.generation++;
  const waiters = [...e.waiters];
  e.waiters.clear();
  for (const wake of waiters) wake();
}

/**
 * Resolves true when the cluster changes after `seenGeneration`, false after `timeoutMs` or when
 * `signal` aborts.
 */
export function waitForClusterChange(
  clusterId: string,
  seenGeneration: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const e = entry(clusterId);
  if (e.generation !== seenGeneration) return Promise.resolve(true);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (changed: boolean) => {
      clearTimeout(timer);
      e.waiters.delete(wake);
      signal?.removeEventListener("abort", onAbort);
      resolve(changed);
    };
    const wake = () => done(true);
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
    e.waiters.add(wake);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waiters currently parked, for tests and metrics. */
export function waiterCount(clusterId: string): number {
  return clusters.get(clusterId)?.waiters.size ?? 0;
}

/** Waiters parked across every cluster, for metrics. */
export function totalWaiterCount(): number {
  let n = 0;
  for (const e of clusters.values()) n += e.waiters.size;
  return n;
}

import type { SpecRealServer, SpecVirtualService } from "../spec/virtual-services";

/**
 * Which real server each bucket of a virtual service's lookup table holds, by scheduler. The
 * datapath picks a bucket (numgen for rr, wrr and random, jhash for sh, dh and mh) and the table
 * answers with a server, so taking a server out or putting it back only rewrites the table.
 * Pure: the renderer, the health checker and the tests share it.
 */

/** A real server as the health checker and the status report name it: service id, address, port. */
export function realServerKey(service: Pick<SpecVirtualService, "id" | "port">, rs: SpecRealServer): string {
  return `${service.id}|${rs.address}|${rs.port ?? service.port ?? "*"}`;
}

/** The servers that may take new connections: enabled, weight above 0, and not down. */
export function usableServers(service: SpecVirtualService, down: ReadonlySet<string>): SpecRealServer[] {
  return service.realServers.filter(
    (rs) => rs.state === "enabled" && rs.weight > 0 && !down.has(realServerKey(service, rs)),
  );
}

/** Above this many buckets weights are scaled down (kept in proportion, each at least 1). */
export const MAX_WEIGHTED_BUCKETS = 1024;
/** Maglev lookup table size: a prime (as LVS mh's default), large enough for 64 servers. */
export const MAGLEV_TABLE_SIZE = 251;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Weights divided by their common divisor and, when their sum is too big, scaled to fit. */
export function reducedWeights(weights: readonly number[], maxTotal = MAX_WEIGHTED_BUCKETS): number[] {
  const g = weights.reduce((a, w) => gcd(a, w), 0) || 1;
  let out = weights.map((w) => w / g);
  const total = out.reduce((a, w) => a + w, 0);
  if (total > maxTotal) out = out.map((w) => Math.max(1, Math.floor((w * maxTotal) / total)));
  return out;
}

/**
 * Weighted buckets in a smooth interleaving (each step gives the bucket to the server furthest
 * behind its share), so consecutive connections alternate as much as the weights allow:
 * weights 1 and 2 give b, a, b.
 */
export function weightedBuckets<T>(servers: readonly T[], weights: readonly number[]): T[] {
  const w = reducedWeights(weights);
  const total = w.reduce((a, x) => a + x, 0);
  const current = w.map(() => 0);
  const out: T[] = [];
  for (let step = 0; step < total; step++) {
    let best = 0;
    for (let i = 0; i < w.length; i++) {
      current[i] = (current[i] ?? 0) + (w[i] ?? 0);
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - total;
    out.push(servers[best] as T);
  }
  return out;
}

/** 32-bit FNV-1a of a text, from a chosen offset basis. */
export function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The Maglev lookup table (Eisenbud et al., NSDI 2016): each server walks its own permutation of
 * the table (offset and skip from hashes of its address and port) and servers take turns, in
 * proportion to their weights, claiming their next free entry. A server's permutation does not
 * depend on the others, so when one leaves, the entries of the others mostly stay where they were
 * and only its own clients move.
 */
export function maglevTable<T>(
  servers: readonly T[],
  names: readonly string[],
  weights: readonly number[],
  size = MAGLEV_TABLE_SIZE,
): T[] {
  if (servers.length === 0) return [];
  const turns = reducedWeights(weights, size);
  const offset = names.map((n) => fnv1a(n, 0x811c9dc5) % size);
  const skip = names.map((n) => (fnv1a(n, 0x01000193) % (size - 1)) + 1);
  const next = names.map(() => 0);
  const table: number[] = new Array(size).fill(-1);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < servers.length && filled < size; i++) {
      for (let t = 0; t < (turns[i] ?? 1) && filled < size; t++) {
        let c = ((offset[i] ?? 0) + (next[i] ?? 0) * (skip[i] ?? 1)) % size;
        while (table[c] !== -1) {
          next[i] = (next[i] ?? 0) + 1;
          c = ((offset[i] ?? 0) + (next[i] ?? 0) * (skip[i] ?? 1)) % size;
        }
        table[c] = i;
        next[i] = (next[i] ?? 0) + 1;
        filled++;
      }
    }
  }
  return table.map((i) => servers[i] as T);
}

/** The service's lookup table for the usable servers: entry i is bucket i. */
export function scheduleBuckets(service: SpecVirtualService, usable: readonly SpecRealServer[]): SpecRealServer[] {
  if (usable.length === 0) return [];
  const weights = usable.map((r) => r.weight);
  switch (service.scheduler) {
    case "rr":
      // as ipvsadm's rr: weights other than 0 do not matter
      return [...usable];
    case "mh":
      return maglevTable(
        usable,
        usable.map((r) => `${r.address}:${r.port ?? service.port ?? 0}`),
        weights,
      );
    default:
      return weightedBuckets(usable, weights);
  }
}

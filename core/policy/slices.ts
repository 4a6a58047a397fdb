/**
 * Active/active pool slices: which gateway of a cluster SNATs new connections to which pool
 * address. Each address ranks the gateways by a hash of (address, gateway id) (rendezvous hashing),
 * so the ranking of one address never depends on the other gateways; loads are then bounded to
 * ceil(n / gateways) addresses per gateway so that a small pool is still split evenly. A gateway
 * joining or leaving moves about its own share of addresses and few others.
 *
 * Pinned addresses (an operator's choice, e.g. to match the upstream's static routes) go to their
 * gateway first and count toward its share.
 */

/** FNV-1a over the UTF-16 code units, then a final avalanche (murmur3 fmix32). */
function score(address: string, gatewayId: string): number {
  let h = 0x811c9dc5;
  const key = `${address}|${gatewayId}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The gateways in the order this address prefers them (ties broken by id). */
export function preferenceOrder(address: string, gatewayIds: readonly string[]): string[] {
  return [...gatewayIds]
    .map((id) => ({ id, s: score(address, id) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((x) => x.id);
}

/**
 * Assigns every address to one gateway. `addresses` and `gatewayIds` may come in any order; the
 * result does not depend on it. `pinned` maps an address to the gateway it must go to (pins to
 * gateways not in `gatewayIds` are ignored).
 */
export function assignSlices(
  addresses: readonly string[],
  gatewayIds: readonly string[],
  pinned: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const owners = new Map<string, string>();
  if (gatewayIds.length === 0) return owners;
  const gateways = [...new Set(gatewayIds)].sort();
  const unique = [...new Set(addresses)].sort();
  const capacity = Math.ceil(unique.length / gateways.length);
  const load = new Map(gateways.map((g) => [g, 0]));
  const free: string[] = [];
  for (const a of unique) {
    const pin = pinned.get(a);
    if (pin !== undefined && load.has(pin)) {
      owners.set(a, pin);
      load.set(pin, (load.get(pin) ?? 0) + 1);
    } else free.push(a);
  }
  // the strongest preferences are served first, so an address rarely loses its first choice
  const ranked = free
    .map((a) => ({ a, order: preferenceOrder(a, gateways) }))
    .map((x) => ({ ...x, best: score(x.a, x.order[0] as string) }))
    .sort((x, y) => y.best - x.best || (x.a < y.a ? -1 : 1));
  for (const { a, order } of ranked) {
    const owner = order.find((g) => (load.get(g) ?? 0) < capacity) ?? (order[0] as string);
    owners.set(a, owner);
    load.set(owner, (load.get(owner) ?? 0) + 1);
  }
  return owners;
}

/** The addresses one gateway owns, in the order given. */
export function sliceOf(
  addresses: readonly string[],
  owners: ReadonlyMap<string, string>,
  gatewayId: string,
): string[] {
  return addresses.filter((a) => owners.get(a) === gatewayId);
}

import { bigIntToIPv4, ipv4ToBigInt, parseCidr } from "../address";

/**
 * IPv4 interval arithmetic for the renderer. Addresses are plain numbers (0..2^32-1): the renderer
 * handles tens of thousands of networks, and numbers keep that fast.
 */
export interface Range {
  start: number;
  end: number;
}

export function cidrRange(text: string): Range {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(r.error);
  return { start: Number(r.value.start), end: Number(r.value.end) };
}

export const ipv4ToNumber = (text: string): number => Number(ipv4ToBigInt(text));
export const numberToIPv4 = (value: number): string => bigIntToIPv4(BigInt(value));

/** Sorts and joins overlapping or adjacent ranges. */
export function unionRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** "a.b.c.d/len" when the range is exactly one network, else "a.b.c.d-e.f.g.h". */
export function formatRange(r: Range): string {
  const size = r.end - r.start + 1;
  const isPowerOfTwo = size > 0 && 2 ** Math.round(Math.log2(size)) === size;
  if (isPowerOfTwo && r.start % size === 0) {
    const prefix = 32 - Math.log2(size);
    return prefix === 32 ? numberToIPv4(r.start) : `${numberToIPv4(r.start)}/${prefix}`;
  }
  return `${numberToIPv4(r.start)}-${numberToIPv4(r.end)}`;
}

export interface Segment<T> extends Range {
  /** the items whose range covers this whole segment, in the order the items were given */
  covering: T[];
}

/**
 * Splits the address space covered by the items' ranges into the largest non-overlapping segments
 * on which the set of covering items does not change (a sweep over the range boundaries). Gaps
 * covered by no item are left out. Runs in O(boundaries * log + output).
 */
export function segmentByCover<T>(items: readonly T[], rangeOf: (item: T) => Range): Array<Segment<T>> {
  const events: Array<{ at: number; index: number; open: boolean }> = [];
  items.forEach((item, index) => {
    const r = rangeOf(item);
    events.push({ at: r.start, index, open: true });
    // a range ending at 255.255.255.255 closes past the end of the space
    events.push({ at: r.end + 1, index, open: false });
  });
  events.sort((a, b) => a.at - b.at);
  const active = new Set<number>();
  const out: Array<Segment<T>> = [];
  let i = 0;
  while (i < events.length) {
    const at = events[i]?.at ?? 0;
    while (i < events.length && events[i]?.at === at) {
      const ev = events[i];
      if (ev !== undefined) {
        if (ev.open) active.add(ev.index);
        else active.delete(ev.index);
      }
      i++;
    }
    const next = events[i]?.at;
    if (next === undefined || active.size === 0) continue;
    const covering = [...active].sort((a, b) => a - b).map((k) => items[k] as T);
    out.push({ start: at, end: next - 1, covering });
  }
  return out;
}

export interface Block {
  start: number;
  prefix: number;
}

/** The fewest networks (CIDR blocks) that exactly cover a range. */
export function rangeToBlocks(r: Range): Block[] {
  const out: Block[] = [];
  let start = r.start;
  while (start <= r.end) {
    // the largest aligned block at start that does not pass the end
    let size = start === 0 ? 2 ** 32 : 2 ** Math.min(32, countTrailingZeros(start));
    while (start + size - 1 > r.end) size /= 2;
    out.push({ start, prefix: 32 - Math.log2(size) });
    start += size;
  }
  return out;
}

function countTrailingZeros(v: number): number {
  let n = 0;
  let x = v;
  while (n < 32 && x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** The netmask of a prefix length in dotted form, e.g. 26 -> 255.255.255.192. */
export function netmask(prefix: number): string {
  return numberToIPv4(prefix === 0 ? 0 : (0xffffffff - (2 ** (32 - prefix) - 1)) >>> 0);
}

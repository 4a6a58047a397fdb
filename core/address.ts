import ipaddr from "ipaddr.js";

/**
 * Address math for policy objects. Addresses are kept as strings in the model and turned into
 * closed bigint intervals here, so IPv6 can be added later without changing callers.
 */
export type Family = 4 | 6;

export interface Interval {
  family: Family;
  start: bigint;
  end: bigint;
}

export interface Cidr extends Interval {
  /** canonical text, e.g. "100.64.1.0/24" (host bits cleared) */
  text: string;
  prefix: number;
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Strict dotted-quad IPv4 (no octal, hex or short forms that ipaddr.js would also accept). */
export function isIPv4(text: string): boolean {
  return V4_RE.test(text);
}

export function ipv4ToBigInt(text: string): bigint {
  const bytes = ipaddr.IPv4.parse(text).toByteArray();
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function bigIntToIPv4(value: bigint): string {
  const parts: number[] = [];
  let v = value;
  for (let i = 0; i < 4; i++) {
    parts.unshift(Number(v & 255n));
    v >>= 8n;
  }
  return parts.join(".");
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses "a.b.c.d/len" or a bare address (taken as /32). Host bits must be zero. */
export function parseCidr(text: string): ParseResult<Cidr> {
  const trimmed = text.trim();
  const [addr, len, extra] = trimmed.split("/");
  if (extra !== undefined || addr === undefined || !isIPv4(addr)) {
    return { ok: false, error: `"${text}" is not an IPv4 network (expected a.b.c.d/len)` };
  }
  let prefix = 32;
  if (len !== undefined) {
    if (!/^\d{1,2}$/.test(len) || Number(len) > 32) {
      return { ok: false, error: `"${text}" has an invalid prefix length (0 to 32)` };
    }
    prefix = Number(len);
  }
  const base = ipv4ToBigInt(addr);
  const size = 1n << BigInt(32 - prefix);
  if (base % size !== 0n) {
    const network = bigIntToIPv4(base - (base % size));
    return { ok: false, error: `"${text}" has host bits set; did you mean ${network}/${prefix}?` };
  }
  return {
    ok: true,
    value: { family: 4, start: base, end: base + size - 1n, prefix, text: `${addr}/${prefix}` },
  };
}

/** Parses a pool address item: "a.b.c.d", "a.b.c.d-a.b.c.e" or a CIDR. */
/**
 * The long form of a range written the short way, "1.1.2.71-73" or "1.1.2.71-3.9" (the end's
 * missing leading octets taken from the start): "1.1.2.71-1.1.2.73". Anything else comes back as
 * it was (an address, a full range, a network, or text that is none of them, for the parser to
 * refuse).
 */
export function expandShortRange(text: string): string {
  const m = /^(\d+\.\d+\.\d+\.\d+)-(\d+(?:\.\d+){0,2})$/.exec(text.trim());
  if (m === null) return text;
  const from = m[1] as string;
  const tail = (m[2] as string).split(".");
  const to = [...from.split(".").slice(0, 4 - tail.length), ...tail].join(".");
  return isIPv4(from) && isIPv4(to) ? `${from}-${to}` : text;
}

export function parseAddressRange(text: string): ParseResult<Interval> {
  const trimmed = text.trim();
  if (trimmed.includes("-")) {
    const [from, to, extra] = trimmed.split("-");
    if (extra !== undefined || from === undefined || to === undefined || !isIPv4(from) || !isIPv4(to)) {
      return { ok: false, error: `"${text}" is not an address range (expected a.b.c.d-a.b.c.e)` };
    }
    const start = ipv4ToBigInt(from);
    const end = ipv4ToBigInt(to);
    if (end < start) return { ok: false, error: `"${text}" ends before it starts` };
    return { ok: true, value: { family: 4, start, end } };
  }
  const cidr = parseCidr(trimmed);
  if (!cidr.ok) {
    return { ok: false, error: `"${text}" is not an address, range (a-b) or network (a.b.c.d/len)` };
  }
  return { ok: true, value: { family: 4, start: cidr.value.start, end: cidr.value.end } };
}

export function intervalSize(i: Interval): bigint {
  return i.end - i.start + 1n;
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

export function contains(outer: Interval, inner: Interval): boolean {
  return outer.family === inner.family && outer.start <= inner.start && inner.end <= outer.end;
}

export function containsAddress(i: Interval, address: string): boolean {
  if (!isIPv4(address)) return false;
  const v = ipv4ToBigInt(address);
  return i.family === 4 && i.start <= v && v <= i.end;
}

/** Lists every address of an interval; callers bound the size first. */
export function expandInterval(i: Interval): string[] {
  const out: string[] = [];
  for (let v = i.start; v <= i.end; v++) out.push(bigIntToIPv4(v));
  return out;
}

export function formatInterval(i: Interval): string {
  return i.start === i.end ? bigIntToIPv4(i.start) : `${bigIntToIPv4(i.start)}-${bigIntToIPv4(i.end)}`;
}

/**
 * IPv4 ranges no gateway can use as a router or a source address on the internet. Link-local is
 * refused where noted only: a next hop may well be link-local (some clouds route that way), a
 * SNAT address may not.
 */
const RESERVED_V4: ReadonlyArray<{ cidr: string; says: string; linkLocal?: true }> = [
  { cidr: "0.0.0.0/8", says: 'is in 0.0.0.0/8 ("this network", which holds the unspecified address 0.0.0.0)' },
  { cidr: "127.0.0.0/8", says: "is a loopback address" },
  { cidr: "169.254.0.0/16", says: "is a link-local address (169.254.0.0/16)", linkLocal: true },
  { cidr: "224.0.0.0/4", says: "is a multicast address" },
  { cidr: "240.0.0.0/4", says: "is a reserved or broadcast address" },
];

const RESERVED_INTERVALS = RESERVED_V4.map((r) => {
  const parsed = parseCidr(r.cidr);
  if (!parsed.ok) throw new Error(`bad reserved range ${r.cidr}`);
  return { ...r, interval: parsed.value };
});

export interface ReservedHit {
  /** the first reserved address the interval holds */
  address: string;
  /** what it is, as a predicate: "is a loopback address" */
  says: string;
}

/** The first reserved address in `i` (a single address or a range), or null when it holds none. */
export function reservedAddressIn(i: Interval, opts: { linkLocal: boolean }): ReservedHit | null {
  for (const r of RESERVED_INTERVALS) {
    if (r.linkLocal && !opts.linkLocal) continue;
    if (overlaps(i, r.interval)) {
      const first = i.start > r.interval.start ? i.start : r.interval.start;
      return { address: bigIntToIPv4(first), says: r.says };
    }
  }
  return null;
}

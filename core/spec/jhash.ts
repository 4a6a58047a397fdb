/**
 * The kernel's jhash (Bob Jenkins' lookup3 over bytes, include/linux/jhash.h) as nftables' `jhash`
 * expression uses it, so the console can predict which pool address a hash algorithm picks.
 * nft hashes the expression registers: each field is zero-padded to 4 bytes, in network order.
 */
const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

function readLE32(k: Uint8Array, o: number): number {
  return ((k[o] ?? 0) | ((k[o + 1] ?? 0) << 8) | ((k[o + 2] ?? 0) << 16) | ((k[o + 3] ?? 0) << 24)) >>> 0;
}

export function jhash(key: Uint8Array, initval: number): number {
  let length = key.length;
  let a = (0xdeadbeef + length + initval) >>> 0;
  let b = a;
  let c = a;
  let o = 0;
  while (length > 12) {
    a = (a + readLE32(key, o)) >>> 0;
    b = (b + readLE32(key, o + 4)) >>> 0;
    c = (c + readLE32(key, o + 8)) >>> 0;
    // mix
    a = (a - c) >>> 0;
    a = (a ^ rol(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rol(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c;
  const byte = (i: number) => key[o + i] ?? 0;
  // the tail: bytes 0-3 into a, 4-7 into b, 8-11 into c, little-endian within each word
  for (let i = length - 1; i >= 0; i--) {
    const v = (byte(i) << ((i % 4) * 8)) >>> 0;
    if (i >= 8) c = (c + v) >>> 0;
    else if (i >= 4) b = (b + v) >>> 0;
    else a = (a + v) >>> 0;
  }
  // final
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 24)) >>> 0;
  return c;
}

/** The kernel's reciprocal_scale: maps a 32-bit hash onto 0..modulus-1 as nft's `mod N` does. */
export function reciprocalScale(hash: number, modulus: number): number {
  return Number((BigInt(hash >>> 0) * BigInt(modulus)) >> 32n);
}

/** Builds the register bytes nft hashes for a concatenation of fields of the given byte widths. */
export function registerBytes(fields: Array<{ value: number; width: 1 | 2 | 4 }>): Uint8Array {
  const out = new Uint8Array(fields.length * 4);
  fields.forEach((f, i) => {
    const base = i * 4;
    // network byte order, left-aligned in a zeroed 32-bit register
    for (let j = 0; j < f.width; j++) out[base + j] = (f.value >>> ((f.width - 1 - j) * 8)) & 0xff;
  });
  return out;
}

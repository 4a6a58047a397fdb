import type { SpecVirtualService } from "../spec/virtual-services";

/** Statement pieces both virtual service renderers (NAT: virtual-services.ts, DR: vs-dr.ts) write. */

export const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

/** Which bucket a new connection takes: numgen for rr, wrr and random, a seeded jhash for the hashes. */
export function bucketExpression(service: SpecVirtualService, n: number, seed: number): string {
  switch (service.scheduler) {
    case "rr":
    case "wrr":
      return `numgen inc mod ${n}`;
    case "random":
      return `numgen random mod ${n}`;
    case "dh":
      return `jhash ip daddr mod ${n} seed ${hex(seed)}`;
    default:
      return `jhash ip saddr mod ${n} seed ${hex(seed)}`;
  }
}

/** An nft comment from operator text: only characters nft takes inside quotes, at most 120. */
export function quoteComment(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9 ._:/>,()-]/g, "_");
  return `comment "${safe.length > 120 ? `${safe.slice(0, 117)}...` : safe}"`;
}

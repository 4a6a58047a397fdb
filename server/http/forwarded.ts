import ipaddr from "ipaddr.js";

/**
 * Who sent a request, and to which host and protocol, believing X-Forwarded-* only from trusted proxies.
 *
 * `next start` keeps a client's own X-Forwarded-For / -Host / -Proto untouched (it only fills them in when they
 * are missing), so those headers say whatever the client wants. The address of the TCP peer is stamped on every
 * request by the console itself (server/http/peer.ts); the forwarded headers count only when that peer is one of
 * GATEHOUSE_TRUSTED_PROXIES.
 */

export type TrustedProxies = readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];

/** "10.0.0.1, 192.168.0.0/16, ::1" -> ranges; throws with the entry that is neither an address nor a CIDR. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const out: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    try {
      if (entry.includes("/")) out.push(ipaddr.parseCIDR(entry));
      else {
        const addr = ipaddr.parse(entry);
        out.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
      }
    } catch {
      throw new Error(`"${entry}" is neither an IP address nor a CIDR range`);
    }
  }
  return out;
}

/** An address in canonical text, IPv4-mapped IPv6 (::ffff:1.2.3.4, as Node reports IPv4 peers on dual-stack sockets) as IPv4. */
export function normaliseAddress(text: string): string | null {
  try {
    const addr = ipaddr.parse(text.trim());
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (addr as ipaddr.IPv6).toIPv4Address().toString();
    }
    return addr.toString();
  } catch {
    return null;
  }
}

export function isTrusted(address: string, trusted: TrustedProxies): boolean {
  const text = normaliseAddress(address);
  if (text === null) return false;
  const addr = ipaddr.parse(text);
  return trusted.some(([range, bits]) => range.kind() === addr.kind() && addr.match(range, bits));
}

const listOf = (value: string | null) =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export interface RequestOrigin {
  /** the client's address: the peer's own, or the nearest untrusted hop when the peer is a trusted proxy */
  ip: string;
  /** the host the browser asked for */
  host: string | null;
  proto: "http" | "https";
}

export function resolveOrigin(
  req: { peer: string; tls: boolean; headers: Headers },
  trusted: TrustedProxies,
): RequestOrigin {
  const peer = normaliseAddress(req.peer) ?? "";
  const direct: RequestOrigin = { ip: peer, host: req.headers.get("host"), proto: req.tls ? "https" : "http" };
  if (!peer || !isTrusted(peer, trusted)) return direct;
  // walk the proxies' chain from the nearest hop back; the first address no trusted proxy owns is the client
  const hops = listOf(req.headers.get("x-forwarded-for"));
  let ip = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseAddress(hops[i] ?? "");
    if (hop === null) break;
    ip = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  // the nearest proxy's word on host and protocol: the last value, which it set or appended
  const host = listOf(req.headers.get("x-forwarded-host")).at(-1) ?? direct.host;
  const proto = listOf(req.headers.get("x-forwarded-proto")).at(-1)?.toLowerCase();
  return { ip, host, proto: proto === "https" ? "https" : proto === "http" ? "http" : direct.proto };
}

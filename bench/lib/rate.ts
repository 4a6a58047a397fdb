import type { Lab } from "../../testkit/lab/lab";
import { startFlood } from "../../testkit/lab/traffic";
import { installCounters } from "./counters";

/**
 * New connections per second through a lab gateway: udpflood.mjs sends one UDP packet per
 * (source port, destination port) pair, so every packet is a new conntrack entry the NAT rules
 * classify; the rate is what reached the server NATed. Bounded in count and seconds.
 */

const FLOOD_SECONDS = 1.5;
const FLOOD_MAX_PACKETS = 400_000;

/** Counts what reaches the server, NATed or not, and drops it there (no replies, no ICMP errors). */
export async function installServerCounter(lab: Lab): Promise<() => Promise<{ nated: number; other: number }>> {
  const counters = await installCounters(lab, lab.ns.server, [
    { name: "nated", match: "udp dport 1024-65535 ip saddr 198.51.100.0/24" },
    { name: "other", match: "udp dport 1024-65535" },
  ]);
  return async () => {
    const c = await counters.read();
    return { nated: c.nated ?? 0, other: c.other ?? 0 };
  };
}

export async function measureRate(
  lab: Lab,
  src: string,
  read: () => Promise<{ nated: number; other: number }>,
): Promise<number> {
  // every run starts from an empty conntrack table
  await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
  await lab.must(lab.ns.server, ["nft", "reset", "counters", "table", "inet", "bench"]);
  const flood = startFlood(lab, lab.clients[0]?.ns as string, {
    dst: lab.servers[0] as string,
    src,
    seconds: FLOOD_SECONDS,
    count: FLOOD_MAX_PACKETS,
    sockets: 8,
  });
  const sent = await flood.result;
  const seen = await read();
  if (seen.other > 0) throw new Error(`${seen.other} packets reached the server un-NATed: the policy did not match`);
  if (seen.nated < sent.sent * 0.9) throw new Error(`only ${seen.nated} of ${sent.sent} packets arrived`);
  return seen.nated / sent.seconds;
}

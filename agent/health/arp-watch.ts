import { onLinkAddresses } from "../../core/render/nft";
import { ARP_SET_ANSWERED, ARP_SET_ASKED } from "../../core/render/names";
import { NFT_ARP_TABLE } from "../../core/spec/marks";
import type { GatewaySpec } from "../../core/spec/schema";
import type { CommandRunner } from "../apply/runner";

/**
 * Notices on-link pool addresses that the ISP router keeps asking for while nobody answers: the
 * ARP watch table (core/render/nft.ts renderArpWatch) counts, per address, the ARP requests that
 * arrive and the replies the gateway sends. An address whose requests grew by MIN_REQUESTS or
 * more over the window while its replies did not grow at all is reported: the router cannot
 * deliver replies to connections NATed to it (the address is missing from the uplink, or sits on
 * another interface). One `nft -j list table` every few seconds; nothing per packet in userspace.
 */

export const ARP_WINDOW_MS = 10_000;
/** a router retries an unanswered ARP request about once a second per waiting packet */
export const MIN_REQUESTS = 3;

export interface ArpCounts {
  asked: number;
  answered: number;
}

/** Per-address counters from `nft -j list table arp gatehouse_arp`. */
export function parseArpCounters(json: string): Map<string, ArpCounts> {
  const out = new Map<string, ArpCounts>();
  let doc: { nftables?: Array<{ set?: { name?: string; elem?: unknown[] } }> };
  try {
    doc = JSON.parse(json);
  } catch {
    return out;
  }
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    const key = set?.name === ARP_SET_ASKED ? "asked" : set?.name === ARP_SET_ANSWERED ? "answered" : null;
    if (key === null) continue;
    for (const e of set?.elem ?? []) {
      const elem = (e as { elem?: { val?: unknown; counter?: { packets?: unknown } } }).elem;
      if (typeof elem?.val !== "string" || typeof elem.counter?.packets !== "number") continue;
      const row = out.get(elem.val) ?? { asked: 0, answered: 0 };
      row[key] = elem.counter.packets;
      out.set(elem.val, row);
    }
  }
  return out;
}

interface Sample {
  at: number;
  counts: Map<string, ArpCounts>;
}

export class ArpWatch {
  private samples: Sample[] = [];
  private unansweredByIsp = new Map<string, string[]>();

  constructor(private readonly windowMs = ARP_WINDOW_MS) {}

  /** Takes one reading; spec is the running one (which addresses belong to which ISP). */
  observe(spec: GatewaySpec, counts: Map<string, ArpCounts>, now: number): void {
    const last = this.samples.at(-1);
    // a reload flushes the sets: counters that went down start a new window
    const restarted =
      last !== undefined &&
      [...counts].some(([a, c]) => {
        const before = last.counts.get(a);
        return before !== undefined && (c.asked < before.asked || c.answered < before.answered);
      });
    if (restarted) this.samples = [];
    this.samples.push({ at: now, counts });
    this.samples = this.samples.filter((s) => now - s.at <= this.windowMs);
    const first = this.samples[0] as Sample;
    const byIsp = new Map<string, string[]>();
    for (const { address, ispId } of onLinkAddresses(spec)) {
      const a = first.counts.get(address);
      const b = counts.get(address);
      if (a === undefined || b === undefined) continue;
      if (b.asked - a.asked >= MIN_REQUESTS && b.answered === a.answered) {
        byIsp.set(ispId, [...(byIsp.get(ispId) ?? []), address]);
      }
    }
    this.unansweredByIsp = byIsp;
  }

  unanswered(ispId: string): string[] {
    return (this.unansweredByIsp.get(ispId) ?? []).slice(0, 64);
  }

  /** Reads the counters from the kernel and observes them; a missing table reads as no counters. */
  async refresh(runner: CommandRunner, spec: GatewaySpec, now = Date.now()): Promise<void> {
    const r = await runner.run(["nft", "-j", "list", "table", "arp", NFT_ARP_TABLE], { timeoutMs: 5_000 });
    this.observe(spec, r.code === 0 ? parseArpCounters(r.stdout) : new Map(), now);
  }
}

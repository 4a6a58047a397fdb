import { containsAddress, type Interval, intervalSize, parseAddressRange } from "../../../core/address";
import { ROUTE_TABLE_BASE } from "../../../core/spec/marks";

/**
 * Turning raw diagnostic output into what an operator needs: only the agent's own ip rules, and
 * SNATed connection counts per pool address. Pure, so the formatting is tested without a gateway.
 */

const OWNED_FROM = 1;
const OWNED_TO = 250;

/** `ip rule show` lines that belong to the agent: those that look up its routing tables (its priorities are a cluster setting). */
export function agentIpRules(stdout: string): string {
  const owned = (n: number, base: number) => n >= base + OWNED_FROM && n <= base + OWNED_TO;
  return stdout
    .split("\n")
    .filter((line) => {
      const prio = /^(\d+):/.exec(line.trim());
      const table = /\blookup (\d+)\b/.exec(line);
      return prio !== null && table !== null && owned(Number(table[1]), ROUTE_TABLE_BASE);
    })
    .join("\n");
}

/** "198.51.100.10 3" lines -> counts by address; anything else is ignored. */
export function parseAddressCounts(stdout: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\s+(\d+)$/.exec(line.trim());
    if (m?.[1] !== undefined) counts.set(m[1], (counts.get(m[1]) ?? 0) + Number(m[2]));
  }
  return counts;
}

export interface PoolAddresses {
  name: string;
  addresses: string[];
}

/** Pools this small list every address, connections or not; bigger ones list only the busy ones. */
const LIST_ALL_UP_TO = 64;

const numeric = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);

export function conntrackReport(pools: readonly PoolAddresses[], counts: Map<string, number>): string {
  if (pools.length === 0 && counts.size === 0) return "No pools published and no SNATed connections.";
  const claimed = new Set<string>();
  const lines: string[] = [];
  for (const pool of pools) {
    const intervals = pool.addresses
      .map((a) => parseAddressRange(a))
      .flatMap((r) => (r.ok ? [r.value] : [])) as Interval[];
    const size = intervals.reduce((n, i) => n + intervalSize(i), 0n);
    const busy = [...counts.entries()].filter(([addr]) => intervals.some((i) => containsAddress(i, addr)));
    for (const [addr] of busy) claimed.add(addr);
    const total = busy.reduce((n, [, c]) => n + c, 0);
    lines.push(
      `${pool.name} (${size} address${size === 1n ? "" : "es"}): ${total} SNATed connection${total === 1 ? "" : "s"}`,
    );
    const shown = new Map(busy);
    if (size <= BigInt(LIST_ALL_UP_TO)) {
      for (const i of intervals) {
        for (let v = i.start; v <= i.end; v++) {
          const addr = [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
          if (!shown.has(addr)) shown.set(addr, 0);
        }
      }
    }
    for (const [addr, c] of [...shown.entries()].sort((a, b) => numeric(a[0]) - numeric(b[0]))) {
      lines.push(`  ${addr.padEnd(15)} ${c}`);
    }
    const quiet = size - BigInt(shown.size);
    if (quiet > 0n) lines.push(`  ${quiet} more address${quiet === 1n ? "" : "es"} without connections`);
  }
  const stray = [...counts.entries()].filter(([a]) => !claimed.has(a));
  if (stray.length > 0) {
    lines.push("SNAT addresses in no published pool:");
    for (const [addr, c] of stray.sort((a, b) => numeric(a[0]) - numeric(b[0])))
      lines.push(`  ${addr.padEnd(15)} ${c}`);
  }
  return lines.join("\n");
}

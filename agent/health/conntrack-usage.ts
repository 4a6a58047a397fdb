import type { ConntrackStats, PoolAddressUsage } from "../../core/protocol/health-report";
import { MARK_ISP_MASK } from "../../core/spec/marks";

/**
 * Tallies a conntrack listing in one pass and with bounded memory: the SNATed connections per
 * pool address, and the connections per ISP (the ISP's number in the connection mark, which the
 * failover preview counts as "connections that will be cut"). The listing is parsed line by line
 * as it streams, only addresses of the running spec's pools are kept, and the destinations held
 * per address stop growing at a bound (the tally is then marked partial). Pure: the I/O is in
 * pool-usage-reader.ts.
 *
 * A line of the kernel's listing (/proc/net/nf_conntrack, or `conntrack -L` without the two
 * leading family columns) holds the original tuple, then the reply tuple:
 *   ipv4 2 tcp 6 431999 ESTABLISHED src=C dst=D sport=40000 dport=80 src=D dst=P sport=80 dport=1025 [ASSURED] mark=0 zone=0 use=2
 * After SNAT the reply goes to the pool address P at the port the kernel picked; the reply's
 * source (D, 80) is the destination the port is unique toward. The mark is printed in decimal.
 */

export const MAX_DESTINATIONS = 200_000;

interface AddressTally {
  tcp: number;
  udp: number;
  other: number;
  /** `proto dst port` -> connections */
  destinations: Map<string, number>;
}

export interface UsageTally {
  addresses: Map<string, AddressTally>;
  /** ISP number -> connections whose mark carries it */
  isps: Map<number, number>;
  destinations: number;
  lines: number;
  partial: boolean;
  /** the unfinished last line of the previous chunk */
  rest: string;
}

/** An empty tally for the given pool addresses and ISP numbers. */
export function newTally(addresses: Iterable<string>, ispIndexes: Iterable<number> = []): UsageTally {
  const m = new Map<string, AddressTally>();
  for (const a of addresses) m.set(a, { tcp: 0, udp: 0, other: 0, destinations: new Map() });
  const isps = new Map<number, number>();
  for (const i of ispIndexes) isps.set(i, 0);
  return { addresses: m, isps, destinations: 0, lines: 0, partial: false, rest: "" };
}

/** The value of ` key=` at or after `from`, with where it ends; null when absent. */
function valueAfter(line: string, key: string, from: number): { value: string; end: number } | null {
  const i = line.indexOf(key, from);
  if (i < 0) return null;
  const start = i + key.length;
  const space = line.indexOf(" ", start);
  const end = space < 0 ? line.length : space;
  return { value: line.slice(start, end), end };
}

/** The protocol's name: the first word of a `conntrack -L` line, the third of a /proc one (`ipv4 2 tcp ...`). */
function protocolOf(line: string): string {
  const m = FIRST_WORDS_RE.exec(line);
  if (m === null) return "";
  return (m[1] === "ipv4" || m[1] === "ipv6" ? m[3] : m[1]) ?? "";
}

const FIRST_WORDS_RE = /^(\S+) +(\S+)(?: +(\S+))?/;

/** Adds one listing line: its ISP by its mark, and its pool address when it is SNATed to one. */
export function tallyLine(t: UsageTally, line: string): void {
  t.lines++;
  const mark = line.lastIndexOf(" mark=");
  if (mark >= 0) {
    const isp = (Number.parseInt(line.slice(mark + 6, mark + 17), 10) & MARK_ISP_MASK) >>> 0;
    const had = t.isps.get(isp);
    if (had !== undefined) t.isps.set(isp, had + 1);
  }
  // the reply tuple starts at the second " src="
  const first = line.indexOf(" src=");
  if (first < 0) return;
  const reply = line.indexOf(" src=", first + 5);
  if (reply < 0) return;
  const src = valueAfter(line, " src=", reply);
  const dst = src === null ? null : valueAfter(line, " dst=", src.end);
  if (src === null || dst === null) return;
  const a = t.addresses.get(dst.value);
  if (a === undefined) return;
  const proto = protocolOf(line);
  if (proto !== "tcp" && proto !== "udp") {
    a.other++;
    return;
  }
  a[proto]++;
  const port = valueAfter(line, " sport=", dst.end);
  if (port === null) return;
  const key = `${proto} ${src.value} ${port.value}`;
  const had = a.destinations.get(key);
  if (had !== undefined) a.destinations.set(key, had + 1);
  else if (t.destinations < MAX_DESTINATIONS) {
    a.destinations.set(key, 1);
    t.destinations++;
  } else t.partial = true;
}

/** Adds a chunk of the listing as it streams in. */
export function tallyChunk(t: UsageTally, chunk: string): void {
  const text = t.rest + chunk;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
    if (nl > start) tallyLine(t, text.slice(start, nl));
    start = nl + 1;
  }
  t.rest = text.slice(start);
  // a line never gets this long: drop what cannot be one
  if (t.rest.length > 4096) t.rest = "";
}

export function endTally(t: UsageTally): void {
  if (t.rest.trim() !== "") tallyLine(t, t.rest);
  t.rest = "";
}

/** The tally as the health report carries it, one entry per pool address. */
export function usageOf(
  t: UsageTally,
  pools: ReadonlyArray<{ poolId: string; address: string; ports: number }>,
): PoolAddressUsage[] {
  return pools.map(({ poolId, address, ports }) => {
    const a = t.addresses.get(address);
    let busiest: PoolAddressUsage["busiest"] = null;
    for (const [key, n] of a?.destinations ?? []) {
      if (busiest !== null && n <= busiest.connections) continue;
      const [protocol, destination, port] = key.split(" ") as [string, string, string];
      const p = Number(port);
      if ((protocol !== "tcp" && protocol !== "udp") || !Number.isInteger(p) || p < 1 || p > 65_535) continue;
      busiest = { protocol, destination, port: p, connections: n };
    }
    return { poolId, address, ports, tcp: a?.tcp ?? 0, udp: a?.udp ?? 0, other: a?.other ?? 0, busiest };
  });
}

/** `conntrack -S`: one line per CPU; the counters summed. */
export function parseConntrackStats(text: string): Pick<ConntrackStats, "insertFailed" | "drop" | "earlyDrop"> | null {
  const sum = { insertFailed: 0, drop: 0, earlyDrop: 0 };
  let cpus = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu=")) continue;
    cpus++;
    for (const [key, name] of [
      ["insert_failed", "insertFailed"],
      ["drop", "drop"],
      ["early_drop", "earlyDrop"],
    ] as const) {
      const m = new RegExp(`(?:^|\\s)${key}=(\\d+)`).exec(line);
      if (m !== null) sum[name] += Number(m[1]);
    }
  }
  return cpus === 0 ? null : sum;
}

/** Where the kernel keeps the table's fill, its size and its counters (conntrack -C, sysctl, -S read them). */
export const CONNTRACK_COUNT_FILE = "/proc/sys/net/netfilter/nf_conntrack_count";
export const CONNTRACK_MAX_FILE = "/proc/sys/net/netfilter/nf_conntrack_max";
export const CONNTRACK_STAT_FILE = "/proc/net/stat/nf_conntrack";

/**
 * /proc/net/stat/nf_conntrack: a header of field names, then one row of hexadecimal values per
 * CPU (the same counters `conntrack -S` prints, without starting it); the counters summed.
 */
export function parseConntrackStatFile(
  text: string,
): Pick<ConntrackStats, "insertFailed" | "drop" | "earlyDrop"> | null {
  const [header, ...rows] = text.split("\n").filter((l) => l.trim() !== "");
  const names = header?.trim().split(/\s+/) ?? [];
  const columns = {
    insertFailed: names.indexOf("insert_failed"),
    drop: names.indexOf("drop"),
    earlyDrop: names.indexOf("early_drop"),
  };
  if (Object.values(columns).some((i) => i < 0) || rows.length === 0) return null;
  const sum = { insertFailed: 0, drop: 0, earlyDrop: 0 };
  for (const row of rows) {
    const values = row.trim().split(/\s+/);
    if (values.length !== names.length || values.some((v) => !/^[0-9a-f]+$/i.test(v))) return null;
    for (const [key, i] of Object.entries(columns) as Array<[keyof typeof sum, number]>) {
      sum[key] += Number.parseInt(values[i] as string, 16);
    }
  }
  return sum;
}

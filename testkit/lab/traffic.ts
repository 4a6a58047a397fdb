import { fileURLToPath } from "node:url";
import type { Lab, LabProcess } from "./lab";

/**
 * Typed wrappers around the lab's traffic tools (tools/*.mjs, plain Node so they run with
 * `ip netns exec NS node FILE`) and the nft observers installed in the lab's own namespaces.
 */

export const TOOLS = {
  listen: fileURLToPath(new URL("./tools/listen.mjs", import.meta.url)),
  connect: fileURLToPath(new URL("./tools/connect.mjs", import.meta.url)),
  udpflood: fileURLToPath(new URL("./tools/udpflood.mjs", import.meta.url)),
};

export interface PeerRecord {
  proto: "tcp" | "udp";
  local: string;
  localPort: number;
  peer: string;
  peerPort: number;
}

export interface Listener {
  process: LabProcess;
  records(): PeerRecord[];
  stop(): Promise<void>;
}

function jsonLines<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as T);
}

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the TCP/UDP answering server in a namespace and waits until it listens. */
export async function startListener(
  lab: Lab,
  ns: string,
  opts: { addresses: string[]; tcp?: number[]; udp?: number[]; seconds?: number },
): Promise<Listener> {
  const args = ["node", TOOLS.listen, "--seconds", String(opts.seconds ?? 120)];
  for (const a of opts.addresses) args.push("--address", a);
  for (const p of opts.tcp ?? []) args.push("--tcp", String(p));
  for (const p of opts.udp ?? []) args.push("--udp", String(p));
  const proc = lab.spawn(ns, args);
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  await waitFor(() => proc.stdout().includes('"ready":true') || exited, "the listener");
  if (!proc.stdout().includes('"ready":true')) throw new Error(`listener failed: ${proc.stderr()}`);
  return {
    process: proc,
    records: () => jsonLines<PeerRecord & { ready?: boolean }>(proc.stdout()).filter((r) => r.ready === undefined),
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

export interface Attempt {
  i: number;
  src: string | null;
  sport: number | null;
  ok: boolean;
  seen?: string;
  seenPort?: number;
  error?: string;
  /** how long the attempt took, from opening the socket to the answer (or the error) */
  ms?: number;
}

/** Opens `count` connections from a client and returns what the server saw for each. */
export async function connect(
  lab: Lab,
  ns: string,
  opts: {
    proto: "tcp" | "udp";
    dst: string;
    port: number;
    count: number;
    sources?: string[];
    sport?: number;
    timeoutMs?: number;
    parallel?: number;
  },
): Promise<Attempt[]> {
  const args = ["node", TOOLS.connect, "--proto", opts.proto, "--dst", opts.dst, "--port", String(opts.port)];
  args.push("--count", String(opts.count), "--timeout", String(opts.timeoutMs ?? 1000), "--seconds", "60");
  if (opts.parallel !== undefined) args.push("--parallel", String(opts.parallel));
  if (opts.sport !== undefined) args.push("--sport", String(opts.sport));
  for (const s of opts.sources ?? []) args.push("--src", s);
  const out = await lab.must(ns, args, { timeoutMs: 90_000 });
  return jsonLines<Attempt & { done?: boolean }>(out)
    .filter((a) => a.done === undefined)
    .sort((a, b) => a.i - b.i);
}

export interface FloodResult {
  sent: number;
  errors: number;
  seconds: number;
  rate: number;
}

export function startFlood(
  lab: Lab,
  ns: string,
  opts: { dst: string; src?: string; seconds: number; count?: number; rate?: number; sockets?: number; dport?: number },
): { process: LabProcess; result: Promise<FloodResult> } {
  const args = ["node", TOOLS.udpflood, "--dst", opts.dst, "--seconds", String(opts.seconds)];
  if (opts.src !== undefined) args.push("--src", opts.src);
  if (opts.count !== undefined) args.push("--count", String(opts.count));
  if (opts.rate !== undefined) args.push("--rate", String(opts.rate));
  if (opts.sockets !== undefined) args.push("--sockets", String(opts.sockets));
  if (opts.dport !== undefined) args.push("--dport", String(opts.dport));
  const proc = lab.spawn(ns, args);
  const result = proc.exited.then((code) => {
    const line = jsonLines<FloodResult>(proc.stdout())[0];
    if (code !== 0 || line === undefined) throw new Error(`udpflood failed (${code}): ${proc.stderr()}`);
    return line;
  });
  return { process: proc, result };
}

/** ICMP echo requests seen by the server, by source address (an nft dynamic set in its namespace). */
export interface IcmpObserver {
  sources(): Promise<string[]>;
  reset(): Promise<void>;
}

export async function observeIcmp(lab: Lab, ns: string): Promise<IcmpObserver> {
  await lab.must(ns, ["nft", "-f", "-"], {
    input: [
      "add table inet lab_observe",
      "add set inet lab_observe icmp_sources { type ipv4_addr; flags dynamic; size 65536; }",
      "add chain inet lab_observe input { type filter hook prerouting priority -300; policy accept; }",
      "add rule inet lab_observe input icmp type echo-request add @icmp_sources { ip saddr }",
      "",
    ].join("\n"),
  });
  return {
    async sources() {
      const out = await lab.must(ns, ["nft", "-j", "list", "set", "inet", "lab_observe", "icmp_sources"]);
      const doc = JSON.parse(out) as { nftables: Array<{ set?: { elem?: string[] } }> };
      return [...(doc.nftables.find((x) => x.set !== undefined)?.set?.elem ?? [])].sort();
    },
    async reset() {
      await lab.must(ns, ["nft", "flush", "set", "inet", "lab_observe", "icmp_sources"]);
    },
  };
}

/**
 * Counts packets arriving at an ISP router from the gateway, split into those whose source is in
 * the LAN (un-NATed: they should never be there unless excluded) and those from the pools.
 */
export interface LeakCounter {
  read(): Promise<{ lan: number; pool: number }>;
  reset(): Promise<void>;
}

export async function countAtIsp(lab: Lab, ns: string, iface: string): Promise<LeakCounter> {
  await lab.must(ns, ["nft", "-f", "-"], {
    input: [
      "add table inet lab_count",
      "add counter inet lab_count lan",
      "add counter inet lab_count pool",
      "add chain inet lab_count input { type filter hook prerouting priority -300; policy accept; }",
      `add rule inet lab_count input iifname "${iface}" ip saddr ${lab.lan} counter name lan`,
      `add rule inet lab_count input iifname "${iface}" ip saddr 198.51.100.0/24 counter name pool`,
      "",
    ].join("\n"),
  });
  const value = async (name: string) => {
    const out = await lab.must(ns, ["nft", "-j", "list", "counter", "inet", "lab_count", name]);
    const doc = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> };
    return doc.nftables.find((x) => x.counter !== undefined)?.counter?.packets ?? 0;
  };
  return {
    async read() {
      return { lan: await value("lan"), pool: await value("pool") };
    },
    async reset() {
      await lab.must(ns, ["nft", "reset", "counters", "table", "inet", "lab_count"]);
    },
  };
}

/** Pings once per target from a client with fping; true when answered. */
export async function ping(lab: Lab, ns: string, target: string, source?: string): Promise<boolean> {
  const args = ["fping", "-c", "1", "-t", "500", "-q"];
  if (source !== undefined) args.push("-S", source);
  args.push(target);
  const r = await lab.exec(ns, args, { timeoutMs: 5000 });
  return r.code === 0;
}

/**
 * Counts new connections arriving at an ISP router from the gateway by source range (the router's
 * own conntrack sees each flow once; it only observes, it never changes where anything goes).
 */
export interface FlowCounter<K extends string> {
  /** new connections per range, and "other" for sources in none of them */
  read(): Promise<Record<K | "other", number>>;
  reset(): Promise<void>;
}

export async function countFlowsAtIsp<K extends string>(
  lab: Lab,
  ns: string,
  iface: string,
  ranges: Record<K, string>,
): Promise<FlowCounter<K>> {
  const names = Object.keys(ranges) as K[];
  await lab.must(ns, ["nft", "-f", "-"], {
    input: [
      "add table inet lab_flows",
      ...names.map((n) => `add counter inet lab_flows ${n}`),
      "add counter inet lab_flows other",
      "add chain inet lab_flows input { type filter hook prerouting priority -150; policy accept; }",
      ...names.map(
        (n) =>
          `add rule inet lab_flows input iifname "${iface}" ct state new ip saddr ${ranges[n]} counter name ${n} accept`,
      ),
      `add rule inet lab_flows input iifname "${iface}" ct state new counter name other`,
      "",
    ].join("\n"),
  });
  return {
    async read() {
      const out = await lab.must(ns, ["nft", "-j", "list", "counters", "table", "inet", "lab_flows"]);
      const doc = JSON.parse(out) as { nftables: Array<{ counter?: { name: string; packets: number } }> };
      const counts: Record<string, number> = {};
      for (const n of [...names, "other"])
        counts[n] = doc.nftables.find((x) => x.counter?.name === n)?.counter?.packets ?? 0;
      return counts;
    },
    async reset() {
      await lab.must(ns, ["nft", "reset", "counters", "table", "inet", "lab_flows"]);
      await lab.must(ns, ["conntrack", "-F"]);
    },
  };
}

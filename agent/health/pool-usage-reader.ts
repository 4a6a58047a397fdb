import { type CommandRunner, readGatewayFile } from "../apply/runner";
import { portRangeSize } from "../../core/health/port-usage";
import {
  type ConntrackStats,
  MAX_POOL_ADDRESSES_PER_REPORT,
  type PoolUsageReport,
} from "../../core/protocol/health-report";
import type { GatewaySpec } from "../../core/spec/schema";
import {
  CONNTRACK_COUNT_FILE,
  CONNTRACK_MAX_FILE,
  CONNTRACK_STAT_FILE,
  endTally,
  newTally,
  type UsageTally,
  parseConntrackStatFile,
  parseConntrackStats,
  tallyChunk,
  usageOf,
} from "./conntrack-usage";
import { type Exit, type ProcessSpawner, type SpawnedProcess, streamGatewayFile } from "./spawner";

const exitText = (e: Exit) =>
  `exit ${e.code ?? e.signal ?? e.error}${e.error !== null && e.code !== null ? `: ${e.error}` : ""}`;

/**
 * Reads port usage per pool address and the connections per ISP: one listing of the conntrack
 * table streamed through the tally of conntrack-usage.ts (one walk of the kernel's table for both:
 * a walk costs the kernel milliseconds even when the table is empty, since it visits every
 * bucket). The listing is /proc/net/nf_conntrack where the kernel has it (CONNTRACK_TABLE_FILE),
 * else `conntrack -L`; plus the
 * table's fill and the kernel's exhaustion counters (read from /proc: nf_conntrack_count,
 * nf_conntrack_max and /proc/net/stat/nf_conntrack). Bounded: one read at a time, a time limit
 * (the tally so far is reported as partial), and a cap on the lines read.
 */

/**
 * The kernel's conntrack table as text (CONFIG_NF_CONNTRACK_PROCFS, on in Debian's kernels):
 * reading it costs no process when the agent runs on the gateway, and the kernel formats it for
 * half the CPU time `conntrack -L` takes for the same table (measured here, kernel 6.18: 100000
 * entries 0.10 s against 0.22 s, 262144 entries 0.33 s against 0.60 s).
 */
export const CONNTRACK_TABLE_FILE = "/proc/net/nf_conntrack";

const DUMP_TIMEOUT_MS = 8_000;
const MAX_LINES = 4_000_000;

export interface PoolUsageReaderOptions {
  timeoutMs?: number;
  maxLines?: number;
  /** where the table's listing is read; CONNTRACK_TABLE_FILE unless another namespace's (/proc/PID/net/...) */
  tableFile?: string;
}

export class PoolUsageReader {
  private running = false;
  /** whether the kernel lists its table in a file (until a read finds none): else `conntrack -L` */
  private kernelListsTable = true;
  private last: PoolUsageReport | null = null;
  private ispCounts = new Map<number, number>();

  constructor(
    private readonly runner: CommandRunner,
    private readonly spawner: ProcessSpawner,
    private readonly options: PoolUsageReaderOptions = {},
  ) {}

  latest(): PoolUsageReport | null {
    return this.last;
  }

  /**
   * Connections per ISP number at the last read; an ISP is absent when it was not counted (no read
   * yet, the read failed, or it stopped early and would undercount).
   */
  ispConnections(): ReadonlyMap<number, number> {
    return this.ispCounts;
  }

  /** Reads again unless a read is still running; never throws. Returns the latest report. */
  async refresh(spec: GatewaySpec): Promise<PoolUsageReport | null> {
    if (this.running) return this.last;
    this.running = true;
    try {
      const at = new Date().toISOString();
      const [usage, conntrack] = await Promise.all([this.readUsage(spec), this.readStats()]);
      this.last = { at, addresses: usage.addresses, partial: usage.partial, conntrack };
      this.ispCounts = usage.partial ? new Map() : usage.isps;
    } catch {
      this.last = null;
      this.ispCounts = new Map();
    } finally {
      this.running = false;
    }
    return this.last;
  }

  private async readUsage(
    spec: GatewaySpec,
  ): Promise<Pick<PoolUsageReport, "addresses" | "partial"> & { isps: Map<number, number> }> {
    const wanted = spec.pools.flatMap((p) =>
      p.addresses.map((address) => ({ poolId: p.id, address, ports: portRangeSize(p.portRange) })),
    );
    if (wanted.length === 0 && spec.isps.length === 0) return { addresses: [], partial: false, isps: new Map() };
    const tally = newTally(
      wanted.map((w) => w.address),
      spec.isps.map((i) => i.index),
    );
    const maxLines = this.options.maxLines ?? MAX_LINES;
    let stopped = false;
    let proc: SpawnedProcess;
    const handlers = {
      stdout: (chunk: string) => {
        if (stopped) return;
        tallyChunk(tally, chunk);
        if (tally.lines >= maxLines) {
          stopped = true;
          proc.stop();
        }
      },
    };
    const timer = setTimeout(() => {
      stopped = true;
      proc.stop();
    }, this.options.timeoutMs ?? DUMP_TIMEOUT_MS);
    try {
      if (this.kernelListsTable) {
        const file = this.options.tableFile ?? CONNTRACK_TABLE_FILE;
        proc = streamGatewayFile(this.spawner, file, handlers);
        const exit = await proc.exited;
        if (stopped || exit.code === 0) return this.usage(tally, wanted, stopped);
        if (tally.lines > 0) throw new Error(`${file}: ${exitText(exit)}`);
        // a kernel without the file: conntrack lists the table from now on
        this.kernelListsTable = false;
      }
      proc = this.spawner.spawn(["conntrack", "-L"], handlers);
      const exit = await proc.exited;
      if (!stopped && exit.code !== 0) throw new Error(`conntrack -L: ${exitText(exit)}`);
      return this.usage(tally, wanted, stopped);
    } finally {
      clearTimeout(timer);
    }
  }

  private usage(
    tally: UsageTally,
    wanted: ReadonlyArray<{ poolId: string; address: string; ports: number }>,
    stopped: boolean,
  ): Pick<PoolUsageReport, "addresses" | "partial"> & { isps: Map<number, number> } {
    endTally(tally);
    // the addresses with the most connections first, when a pool has more than a report carries
    const addresses = usageOf(tally, wanted)
      .map((u, i) => ({ u, i, n: u.busiest?.connections ?? 0 }))
      .sort((a, b) => b.n - a.n || a.i - b.i)
      .slice(0, MAX_POOL_ADDRESSES_PER_REPORT)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.u);
    return { addresses, partial: stopped || tally.partial, isps: tally.isps };
  }

  /** The table's fill and the exhaustion counters, from /proc (conntrack -S where the kernel has no stat file). */
  private async readStats(): Promise<ConntrackStats | null> {
    const [count, statFile, max] = await Promise.all([
      readConntrackCount(this.runner),
      readGatewayFile(this.runner, CONNTRACK_STAT_FILE),
      readGatewayFile(this.runner, CONNTRACK_MAX_FILE),
    ]);
    let s = statFile === null ? null : parseConntrackStatFile(statFile);
    if (s === null) {
      const stats = await this.runner.run(["conntrack", "-S"], { timeoutMs: 3_000 });
      s = stats.code === 0 ? parseConntrackStats(stats.stdout) : null;
    }
    if (count === null || s === null) return null;
    const m = Number(max?.trim() ?? "");
    return { count, max: max !== null && Number.isInteger(m) && m > 0 ? m : null, ...s };
  }
}

/** Connections in the conntrack table (a file read on the gateway: cheap enough to do often); null when unreadable. */
export async function readConntrackCount(runner: CommandRunner): Promise<number | null> {
  const text = await readGatewayFile(runner, CONNTRACK_COUNT_FILE);
  const n = text === null || text.trim() === "" ? Number.NaN : Number(text.trim());
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** Fill toward an address's busiest destination below which port usage is re-read less often. */
export const QUIET_FILL = 0.5;

/**
 * Whether port usage may be re-read at the quiet pace (POOL_USAGE_QUIET_FACTOR): the last dump was
 * whole, every pool address was below half full toward its busiest destination, and the conntrack
 * table has about as many connections as at that dump (within 5%, or 10 connections). A table
 * that grows or shrinks, or a pool that fills, brings the next dump back to the usual pace.
 */
export function usageIsQuiet(
  last: PoolUsageReport | null,
  countAtDump: number | null,
  countNow: number | null,
): boolean {
  if (last === null || last.partial || countAtDump === null || countNow === null) return false;
  if (last.addresses.some((a) => (a.busiest?.connections ?? 0) >= QUIET_FILL * a.ports)) return false;
  return Math.abs(countNow - countAtDump) <= Math.max(10, 0.05 * countAtDump);
}

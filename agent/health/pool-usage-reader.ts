import type { CommandRunner } from "../apply/runner";
import { portRangeSize } from "../../core/health/port-usage";
import {
  type ConntrackStats,
  MAX_POOL_ADDRESSES_PER_REPORT,
  type PoolUsageReport,
} from "../../core/protocol/health-report";
import type { GatewaySpec } from "../../core/spec/schema";
import { endTally, newTally, parseConntrackStats, tallyChunk, usageOf } from "./conntrack-usage";
import type { ProcessSpawner } from "./spawner";

/**
 * Reads port usage per pool address: one `conntrack -L -n` (SNATed connections only, the kernel
 * filters) streamed through the tally of conntrack-usage.ts, plus the table's fill and the
 * kernel's exhaustion counters (`conntrack -S`, nf_conntrack_max). Bounded: one read at a time,
 * a time limit (the tally so far is reported as partial), and a cap on the lines read.
 */

const DUMP_TIMEOUT_MS = 8_000;
const MAX_LINES = 4_000_000;

export interface PoolUsageReaderOptions {
  timeoutMs?: number;
  maxLines?: number;
}

export class PoolUsageReader {
  private running = false;
  private last: PoolUsageReport | null = null;

  constructor(
    private readonly runner: CommandRunner,
    private readonly spawner: ProcessSpawner,
    private readonly options: PoolUsageReaderOptions = {},
  ) {}

  latest(): PoolUsageReport | null {
    return this.last;
  }

  /** Reads again unless a read is still running; never throws. Returns the latest report. */
  async refresh(spec: GatewaySpec): Promise<PoolUsageReport | null> {
    if (this.running) return this.last;
    this.running = true;
    try {
      const at = new Date().toISOString();
      const [usage, conntrack] = await Promise.all([this.readUsage(spec), this.readStats()]);
      this.last = { at, addresses: usage.addresses, partial: usage.partial, conntrack };
    } catch {
      this.last = null;
    } finally {
      this.running = false;
    }
    return this.last;
  }

  private async readUsage(spec: GatewaySpec): Promise<Pick<PoolUsageReport, "addresses" | "partial">> {
    const wanted = spec.pools.flatMap((p) =>
      p.addresses.map((address) => ({ poolId: p.id, address, ports: portRangeSize(p.portRange) })),
    );
    if (wanted.length === 0) return { addresses: [], partial: false };
    const tally = newTally(wanted.map((w) => w.address));
    const maxLines = this.options.maxLines ?? MAX_LINES;
    let stopped = false;
    const proc = this.spawner.spawn(["conntrack", "-L", "-n"], {
      stdout: (chunk) => {
        if (stopped) return;
        tallyChunk(tally, chunk);
        if (tally.lines >= maxLines) {
          stopped = true;
          proc.stop();
        }
      },
    });
    const timer = setTimeout(() => {
      stopped = true;
      proc.stop();
    }, this.options.timeoutMs ?? DUMP_TIMEOUT_MS);
    const exit = await proc.exited;
    clearTimeout(timer);
    if (!stopped && exit.code !== 0) throw new Error(`conntrack -L: exit ${exit.code ?? exit.signal ?? exit.error}`);
    endTally(tally);
    // the addresses with the most connections first, when a pool has more than a report carries
    const addresses = usageOf(tally, wanted)
      .map((u, i) => ({ u, i, n: u.busiest?.connections ?? 0 }))
      .sort((a, b) => b.n - a.n || a.i - b.i)
      .slice(0, MAX_POOL_ADDRESSES_PER_REPORT)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.u);
    return { addresses, partial: stopped || tally.partial };
  }

  private async readStats(): Promise<ConntrackStats | null> {
    const [count, stats, max] = await Promise.all([
      this.runner.run(["conntrack", "-C"], { timeoutMs: 3_000 }),
      this.runner.run(["conntrack", "-S"], { timeoutMs: 3_000 }),
      this.runner.run(["sysctl", "-n", "net.netfilter.nf_conntrack_max"], { timeoutMs: 3_000 }),
    ]);
    const n = Number(count.stdout.trim());
    const s = stats.code === 0 ? parseConntrackStats(stats.stdout) : null;
    if (count.code !== 0 || !Number.isInteger(n) || s === null) return null;
    const m = Number(max.stdout.trim());
    return { count: n, max: max.code === 0 && Number.isInteger(m) && m > 0 ? m : null, ...s };
  }
}

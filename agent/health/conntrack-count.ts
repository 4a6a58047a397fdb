import type { CommandRunner } from "../apply/runner";
import { MARK_ISP_MASK } from "../../core/spec/marks";
import type { ProcessSpawner } from "./spawner";

/**
 * How many connections each ISP carries, for the console's failover preview ("N connections
 * will be cut"). The kernel can only count the whole table (`conntrack -C`), so per ISP the agent
 * has conntrack list the connections whose ct mark holds the ISP's number (the kernel filters by
 * mark) with the listing itself thrown away: stdout goes to /dev/null and the count is the
 * summary line conntrack prints on stderr. That costs a walk of the table per ISP, so it is
 * bounded: at most one count at a time, every few seconds, each with a timeout.
 */

const SHOWN_RE = /(\d+) flow entries have been shown/;
const TIMEOUT_MS = 3_000;

export interface ConntrackCounts {
  total: number | null;
  /** by ISP index */
  byIsp: Map<number, number | null>;
}

export function parseShownCount(stderr: string): number | null {
  const m = SHOWN_RE.exec(stderr);
  return m === null ? null : Number(m[1]);
}

async function countMark(spawner: ProcessSpawner, index: number): Promise<number | null> {
  let stderr = "";
  const proc = spawner.spawn(["conntrack", "-L", "-m", `0x${index.toString(16)}/0x${MARK_ISP_MASK.toString(16)}`], {
    discardStdout: true,
    stderr: (chunk) => {
      stderr = (stderr + chunk).slice(-1000);
    },
  });
  const timer = setTimeout(() => proc.stop(), TIMEOUT_MS);
  const exit = await proc.exited;
  clearTimeout(timer);
  return exit.code === 0 ? parseShownCount(stderr) : null;
}

export class ConntrackCounter {
  private running = false;
  private last: ConntrackCounts = { total: null, byIsp: new Map() };

  constructor(
    private readonly runner: CommandRunner,
    private readonly spawner: ProcessSpawner,
  ) {}

  latest(): ConntrackCounts {
    return this.last;
  }

  /** Counts again unless a count is still running; never throws. */
  async refresh(ispIndexes: readonly number[]): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const total = await this.runner.run(["conntrack", "-C"], { timeoutMs: TIMEOUT_MS });
      const n = Number(total.stdout.trim());
      const byIsp = new Map<number, number | null>();
      for (const index of ispIndexes) byIsp.set(index, await countMark(this.spawner, index));
      this.last = { total: total.code === 0 && Number.isInteger(n) ? n : null, byIsp };
    } catch {
      this.last = { total: null, byIsp: new Map() };
    } finally {
      this.running = false;
    }
  }
}

import { MARK_FAILOVER, MARK_ISP_MASK } from "../../core/spec/marks";
import { type CommandRunner, describeFailure } from "./runner";

/**
 * Flushes connections from conntrack by the ISP number the classifier stored in their mark, so
 * clients of a failed uplink reconnect through the backup at once (one call, ~13 ms, see
 * docs/datapath-facts.md). conntrack 1.4.7 exits 1 when nothing matched: that is not an error.
 */

export interface FlushResult {
  ok: boolean;
  deleted: number;
  error: string | null;
}

const hex = (n: number) => `0x${n.toString(16)}`;

async function deleteByMark(runner: CommandRunner, mark: number, mask: number): Promise<FlushResult> {
  const r = await runner.run(["conntrack", "-D", "-m", `${hex(mark)}/${hex(mask)}`], { timeoutMs: 10_000 });
  const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
  if (!r.timedOut && m !== null && (r.code === 0 || r.code === 1))
    return { ok: true, deleted: Number(m[1]), error: null };
  return { ok: false, deleted: 0, error: describeFailure(r) };
}

/** Every connection leaving through the ISP with this index (failed over to it or not). */
export function flushIspConnections(runner: CommandRunner, ispIndex: number): Promise<FlushResult> {
  return deleteByMark(runner, ispIndex, MARK_ISP_MASK);
}

/** Only the connections that were moved to this backup ISP by a failover (for failback). */
export function flushFailedOverConnections(runner: CommandRunner, backupIspIndex: number): Promise<FlushResult> {
  return deleteByMark(runner, MARK_FAILOVER | backupIspIndex, MARK_FAILOVER | MARK_ISP_MASK);
}

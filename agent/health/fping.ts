import type { ProbeSample } from "../../core/health/rounds";
import type { Monitor } from "../../core/policy/model";

/**
 * fping in loop mode is the agent's prober: one long-running process per ISP sends an ICMP echo
 * to each probe target every interval, bound to the ISP's interface (and its address) so the
 * probe really leaves over that uplink whatever the main routing table prefers, and prints one
 * line per probe: the round-trip time, or "timed out" once the timeout has passed.
 *
 *   100.65.1.2 : [12], 64 bytes, 0.041 ms (0.053 avg, 0% loss)
 *   100.65.1.2 : [13], timed out (0.053 avg, 7% loss)
 */

const IFACE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const MIN_TIMEOUT_MS = 10;
export const MAX_TIMEOUT_MS = 10_000;

/**
 * A probe not answered within the ISP's latency threshold counts as lost: that is the
 * threshold's meaning for a single probe, and it is what lets a dead uplink be noticed
 * (downAfter lost probes) within downAfter intervals plus one threshold.
 */
export function probeTimeoutMs(monitor: Pick<Monitor, "latencyThresholdMs">): number {
  return Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, Math.round(monitor.latencyThresholdMs)));
}

export interface FpingTarget {
  interface: string;
  /** the gateway's own address on the ISP's link; null lets the kernel choose from the interface */
  source: string | null;
  targets: readonly string[];
  monitor: Pick<Monitor, "intervalMs" | "latencyThresholdMs">;
}

/** The fping command line; throws on anything that is not an interface name or IPv4 address. */
export function fpingArgs(t: FpingTarget): string[] {
  if (!IFACE_RE.test(t.interface) || t.interface === "." || t.interface === "..") {
    throw new Error(`not an interface name: ${JSON.stringify(t.interface)}`);
  }
  if (t.targets.length === 0) throw new Error("no probe targets");
  for (const a of [...t.targets, ...(t.source === null ? [] : [t.source])]) {
    if (!IPV4_RE.test(a)) throw new Error(`not an IPv4 address: ${JSON.stringify(a)}`);
  }
  const period = Math.max(1, Math.round(t.monitor.intervalMs));
  const args = ["fping", "-4", "-l", "-p", String(period), "-t", String(probeTimeoutMs(t.monitor))];
  args.push("-I", t.interface);
  if (t.source !== null) args.push("-S", t.source);
  // the targets are addresses: never let fping resolve or print names
  args.push("-A", ...new Set(t.targets));
  return args;
}

const LINE_RE = /^(\S+) : \[(\d+)\], (?:\d+ bytes, ([\d.]+) ms|timed out)/;

/** One line of fping's loop output; null for anything else (summaries, ICMP error notices). */
export function parseFpingLine(line: string): ProbeSample | null {
  const m = LINE_RE.exec(line.trim());
  if (m === null) return null;
  const [, target, seq, rtt] = m;
  if (target === undefined || seq === undefined || !IPV4_RE.test(target)) return null;
  const rttMs = rtt === undefined ? null : Number(rtt);
  if (rttMs !== null && !Number.isFinite(rttMs)) return null;
  return { target, seq: Number(seq), rttMs };
}

/** Splits a byte stream into lines, keeping an unfinished last line for the next chunk. */
export class LineSplitter {
  private rest = "";
  constructor(private readonly maxLine = 4096) {}

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    // a runaway line without a newline must not grow without bound
    if (this.rest.length > this.maxLine) this.rest = "";
    return lines;
  }
}

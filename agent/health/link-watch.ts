import type { Logger } from "../log";
import { LineSplitter } from "./fping";
import type { ProcessSpawner, SpawnedProcess } from "./spawner";

/**
 * Link, address and ip rule changes from the kernel, as they happen: one long-running
 * `ip -o monitor link address rule` (one event per line), restarted with backoff when it exits.
 * Carrier loss reaches the agent within milliseconds instead of after `downAfter` lost probes,
 * and an operator's new ip rule is checked against the policy when it is added, not polled for.
 *
 * Measured here (kernel 6.18, iproute2 6.1): the event for a carrier drop arrives 5-8 ms after
 * the peer went down, but the kernel's linkwatch batches carrier events of "non-urgent" devices
 * (physical NICs among them) to one run per second, so a drop within a second of another link
 * event of the host can come up to a second late; the probes still catch it then.
 */

export type LinkEvent =
  | { kind: "link"; ifname: string; carrier: boolean; deleted: boolean }
  | { kind: "address"; ifname: string; address: string; prefix: number; metric: number | null; deleted: boolean }
  | { kind: "rule"; priority: number; deleted: boolean };

/**
 * One line of `ip -o monitor link address rule`, e.g.
 *   `2: eth1@if9: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN ...`
 *   `Deleted 2: eth1    inet 198.51.100.11/32 metric 7100 scope global noprefixroute eth1\ ...`
 *   `Deleted 1234:\tfrom 100.64.9.0/24 lookup 100` (a rule: its priority, a tab; either family)
 * Anything else (IPv6 addresses, other objects, junk) is null.
 */
export function parseMonitorLine(line: string): LinkEvent | null {
  const deleted = line.startsWith("Deleted ");
  const text = deleted ? line.slice("Deleted ".length) : line;
  const rule = /^(\d+):\t/.exec(text);
  if (rule !== null) return { kind: "rule", priority: Number(rule[1]), deleted };
  const link = /^\d+: ([^:@\s]+)(?:@[^:\s]+)?: <([^>]*)>/.exec(text);
  if (link !== null) {
    const flags = (link[2] as string).split(",");
    // carrier counts only while the interface is administratively up and reports its lower layer up
    const carrier = !deleted && flags.includes("UP") && flags.includes("LOWER_UP") && !flags.includes("NO-CARRIER");
    return { kind: "link", ifname: link[1] as string, carrier, deleted };
  }
  const addr = /^\d+: (\S+)\s+inet (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b(.*)$/.exec(text);
  if (addr !== null) {
    const metric = /\bmetric (\d+)\b/.exec(addr[4] as string);
    return {
      kind: "address",
      ifname: addr[1] as string,
      address: addr[2] as string,
      prefix: Number(addr[3]),
      metric: metric === null ? null : Number(metric[1]),
      deleted,
    };
  }
  return null;
}

/** Carrier of every interface in `ip -j link show` output: the state the watcher starts from. */
export function parseLinkCarriers(ipLinkJson: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let links: unknown;
  try {
    links = JSON.parse(ipLinkJson);
  } catch {
    return out;
  }
  if (!Array.isArray(links)) return out;
  for (const l of links as Array<{ ifname?: unknown; flags?: unknown }>) {
    if (typeof l.ifname !== "string" || !Array.isArray(l.flags)) continue;
    const flags = l.flags as string[];
    out.set(l.ifname, flags.includes("UP") && flags.includes("LOWER_UP") && !flags.includes("NO-CARRIER"));
  }
  return out;
}

export interface LinkWatchDeps {
  spawner: ProcessSpawner;
  log: Logger;
  onEvent: (event: LinkEvent) => void;
  /** called after each (re)start, once the monitor runs: the caller reads the current state then */
  onStarted?: () => void;
  restartMs?: { baseMs: number; capMs: number };
}

export const MONITOR_ARGS = ["ip", "-o", "monitor", "link", "address", "rule"] as const;

export class LinkWatcher {
  private process: SpawnedProcess | null = null;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: LinkWatchDeps) {}

  /** a monitor runs now (not before the first start, nor while one is being restarted) */
  get running(): boolean {
    return this.process !== null;
  }

  start(): void {
    if (this.stopped || this.process !== null) return;
    const lines = new LineSplitter();
    const startedAt = Date.now();
    const proc = this.deps.spawner.spawn(MONITOR_ARGS, {
      stdout: (chunk) => {
        for (const line of lines.push(chunk)) {
          const e = parseMonitorLine(line);
          if (e !== null) this.deps.onEvent(e);
        }
      },
    });
    this.process = proc;
    // the monitor is subscribed before the caller reads the current state: no change falls between
    this.deps.onStarted?.();
    void proc.exited.then((exit) => {
      if (this.process !== proc) return;
      this.process = null;
      if (this.stopped) return;
      // a monitor that ran a while is restarted at once; one that keeps dying backs off
      this.failures = Date.now() - startedAt > 10_000 ? 1 : this.failures + 1;
      const r = this.deps.restartMs ?? { baseMs: 200, capMs: 10_000 };
      const wait = Math.min(r.capMs, r.baseMs * 2 ** Math.min(this.failures - 1, 10));
      this.deps.log.warn(
        { exit: exit.error ?? exit.code ?? exit.signal, restartInMs: wait },
        "ip monitor stopped; restarting",
      );
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, wait);
      this.timer.unref?.();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.process?.stop();
    this.process = null;
  }
}

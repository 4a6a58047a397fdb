import { type ChildProcess, spawn } from "node:child_process";
import { type CommandRunner, describeFailure, execRunner, ok, type RunOptions } from "../../agent/apply/runner";

/**
 * The bookkeeping every namespace lab shares: the namespaces it created (deleted by name, newest
 * first, even when building failed half-way), a command runner per namespace, and the processes
 * it started in them (stopped before their namespaces go).
 */

export interface LabProcess {
  child: ChildProcess;
  /** everything the process wrote to stdout so far */
  stdout(): string;
  /** its stderr, the last 2 MB at least once it grew beyond 4 MB */
  stderr(): string;
  /** resolves with the exit code when the process ends */
  exited: Promise<number | null>;
  /** SIGKILL unless told otherwise; nothing once it ended */
  kill(signal?: NodeJS.Signals): void;
}

export const host: CommandRunner = execRunner({ defaultTimeoutMs: 20_000 });

export async function must(runner: CommandRunner, args: readonly string[], opts?: RunOptions): Promise<string> {
  const r = await runner.run(args, opts);
  if (!ok(r)) throw new Error(describeFailure(r));
  return r.stdout;
}

/** Runs many ip commands in one namespace through `ip -n NS -batch -`. */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  await must(host, ["ip", "-n", ns, "-batch", "-"], { input: `${lines.join("\n")}\n` });
}

interface LinkJson {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  qdisc?: string;
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { state?: string } };
}

/** The interfaces set up in `ip -d -j link show` output that cannot carry traffic yet. */
export function linksNotReady(linksJson: string): string[] {
  const links = JSON.parse(linksJson) as LinkJson[];
  return links
    .filter((l) => l.ifname !== "lo" && (l.flags ?? []).includes("UP"))
    .filter(
      (l) =>
        !(l.operstate === "UP" || l.operstate === "UNKNOWN") ||
        l.qdisc === "noop" ||
        (l.linkinfo?.info_slave_kind === "bridge" && l.linkinfo.info_slave_data?.state !== "forwarding"),
    )
    .map(
      (l) =>
        `${l.ifname ?? "?"} (${l.operstate ?? "?"}${l.linkinfo?.info_slave_data?.state ? `, ${l.linkinfo.info_slave_data.state}` : ""})`,
    );
}

/**
 * Waits until every interface set up in a namespace carries traffic, as a real link does long
 * before the first packet. The kernel brings a new carrier into effect through its link watch,
 * which defers a device whose interface number equals its peer's (a veth whose two ends got the
 * same number in their two namespaces) by up to a second: until then the device is operationally
 * down, a bridge keeps it as a disabled port and frames to it are lost (an ARP request, so the
 * first packets waiting for that neighbour go out only with the ARP retry, 1 s later).
 */
export async function waitForLinks(ns: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const pending = linksNotReady(await must(host, ["ip", "-n", ns, "-d", "-j", "link", "show"]));
    if (pending.length === 0) return;
    if (Date.now() > until) throw new Error(`interfaces in ${ns} not up after ${timeoutMs} ms: ${pending.join(", ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const STDERR_KEEP = 2_000_000;

export class Namespaces {
  private readonly created: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private readonly runners = new Map<string, CommandRunner>();

  /** Creates a namespace and remembers it for destroy(). */
  async add(name: string): Promise<void> {
    await must(host, ["ip", "netns", "add", name]);
    this.created.push(name);
  }

  runner(name: string): CommandRunner {
    let r = this.runners.get(name);
    if (r === undefined) {
      r = execRunner({ prefix: ["ip", "netns", "exec", name], defaultTimeoutMs: 30_000 });
      this.runners.set(name, r);
    }
    return r;
  }

  /** Starts a long-running process inside a namespace (or on the host with null); destroy() stops it. */
  spawn(name: string | null, args: readonly string[], env?: Record<string, string>): LabProcess {
    const full = name === null ? [...args] : ["ip", "netns", "exec", name, ...args];
    const [file, ...rest] = full as [string, ...string[]];
    const child = spawn(file, rest, {
      stdio: ["ignore", "pipe", "pipe"],
      env: env === undefined ? process.env : { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString("utf8");
      if (err.length > 2 * STDERR_KEEP) err = err.slice(-STDERR_KEEP);
    });
    const exited = new Promise<number | null>((resolve) => {
      child.on("close", (code) => resolve(code));
      child.on("error", () => resolve(null));
    });
    const proc: LabProcess = {
      child,
      stdout: () => out,
      stderr: () => err,
      exited,
      kill: (signal = "SIGKILL") => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    this.processes.add(proc);
    void exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /**
   * Stops every process (SIGTERM, SIGKILL after graceMs), then deletes the namespaces by name, one at
   * a time: deleting a namespace also removes the veth ends inside it.
   */
  async destroy(graceMs = 2000): Promise<void> {
    const running = [...this.processes];
    for (const proc of running) proc.kill("SIGTERM");
    await Promise.all(
      running.map((proc) =>
        Promise.race([proc.exited, new Promise((r) => setTimeout(r, graceMs)).then(() => proc.kill("SIGKILL"))]),
      ),
    );
    this.processes.clear();
    for (const name of this.created.splice(0).reverse()) await host.run(["ip", "netns", "delete", name]);
  }
}

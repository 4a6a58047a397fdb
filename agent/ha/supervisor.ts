import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LinkState } from "../../core/health/link-state";
import type { HaStatus, VrrpTransition } from "../../core/protocol/agent-api";
import { renderConntrackdConf } from "../../core/render/conntrackd";
import { keepalivedNotifyFifo, keepalivedTrackFile, renderKeepalivedConf } from "../../core/render/keepalived";
import type { SpecHa } from "../../core/spec/schema";
import { type CommandRunner, describeFailure, ok } from "../apply/runner";
import type { ProcessSpawner } from "../health/spawner";
import type { Logger } from "../log";
import { SupervisedChild } from "./children";
import { conntrackdSteps, HaTracker, linkWeightValue, parseNotifyLine } from "./decide";
import { NotifyFifoReader } from "./notify-fifo";

/**
 * High availability on one gateway: keepalived (VRRP) and conntrackd (connection sync) as the
 * agent's children, configured from the spec's `ha` section under one directory of the agent's
 * own (`<state dir>/ha`), so agents of several lab gateways on one host never share a file.
 *
 * - keepalived.conf and conntrackd.conf are written there; a changed keepalived.conf is checked
 *   (`keepalived -t`) and loaded with SIGHUP, a changed conntrackd.conf restarts conntrackd.
 * - keepalived's notify fifo tells the groups' states; on promotion to master the synced
 *   connections are committed into the kernel (conntrackd -c -f -R -B), timed into the
 *   transition's commitMs; on demotion the kernel's timers are shortened and a resync asked for.
 * - links.weight follows the agent's link health (decide.ts: linkWeightValue).
 * - A daemon that dies is restarted; when keepalived dies it cannot remove its addresses, so the
 *   agent removes them first (the peer holds them by then), and the same on stop.
 */

export interface HaSupervisorDeps {
  runner: CommandRunner;
  spawner: ProcessSpawner;
  log: Logger;
  /** the agent's directory for keepalived's and conntrackd's files */
  dir: string;
  /** the status changed: report it (undefined: the spec has no high availability any more) */
  onChange: (status: HaStatus | undefined) => void;
  now?: () => Date;
}

const KEEPALIVED = "keepalived";
const CONNTRACKD = "conntrackd";

export class HaSupervisor {
  private ha: SpecHa | null = null;
  private links: ReadonlyMap<string, LinkState> = new Map();
  private weight = 0;
  private readonly tracker = new HaTracker();
  private readonly keepalived: SupervisedChild;
  private readonly conntrackd: SupervisedChild;
  private readonly fifo: NotifyFifoReader;
  private fifoTimer: NodeJS.Timeout | null = null;
  private error = "";
  private keepalivedConf = "";
  private conntrackdConf: string | null = null;
  /** state changes are handled one at a time, in order */
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly deps: HaSupervisorDeps) {
    this.now = deps.now ?? (() => new Date());
    const changed = () => this.changed();
    this.keepalived = new SupervisedChild({
      name: KEEPALIVED,
      spawner: deps.spawner,
      log: deps.log,
      onStateChange: changed,
      beforeStart: () => this.beforeKeepalived(),
      onDied: async () => {
        for (const t of this.tracker.stopped(this.now())) this.logTransition(t);
        await this.removeAddresses();
      },
    });
    this.conntrackd = new SupervisedChild({
      name: CONNTRACKD,
      spawner: deps.spawner,
      log: deps.log,
      onStateChange: changed,
      pidFile: join(deps.dir, "conntrackd.pid"),
      beforeStart: async () => {
        // conntrackd keeps no pid file of its own: the agent's tells a conntrackd left from before
        await this.removeStale(join(deps.dir, "conntrackd.pid"), CONNTRACKD);
        rmSync(join(deps.dir, "conntrackd.lock"), { force: true });
      },
    });
    this.fifo = new NotifyFifoReader(
      keepalivedNotifyFifo(this.paths()),
      (line) => this.onNotify(line),
      (message) => deps.log.warn({ error: message }, "keepalived's notify fifo"),
    );
  }

  private paths() {
    return { dir: this.deps.dir };
  }
  private file(name: string) {
    return join(this.deps.dir, name);
  }

  /** The spec's ha section (null: stop everything and remove the addresses). */
  async setSpec(ha: SpecHa | null): Promise<void> {
    if (ha === null) {
      if (this.ha !== null) await this.stop();
      return;
    }
    mkdirSync(this.deps.dir, { recursive: true, mode: 0o700 });
    const wasDrained = this.ha?.drained ?? false;
    this.ha = ha;
    this.weight = linkWeightValue(ha, this.links);
    this.tracker.configure(ha, this.weight);
    this.writeWeight();
    await this.configureConntrackd(ha);
    await this.configureKeepalived(ha);
    if (needsHandover(ha, wasDrained, this.tracker.anyMaster(), this.keepalived.state === "running")) {
      await this.handOver();
    }
    this.startFifoWatch();
    this.changed();
  }

  /**
   * A master that is drained with preempt off keeps its groups at priority 1: a backup never takes
   * over from a live master of lower priority. Restarting keepalived hands them over: it leaves
   * with priority-0 adverts (the peer takes over at once) and returns as a backup at priority 1;
   * with no peer to take them it becomes master again after the master-down interval.
   */
  private async handOver(): Promise<void> {
    this.deps.log.info("drained: handing the groups over to the peers");
    await this.keepalived.stop(true);
    await this.keepalived.ensure(this.keepalivedArgs());
  }

  /** The agent's link health changed: keepalived reads the new weight from its file. */
  linksChanged(links: ReadonlyMap<string, LinkState>): void {
    this.links = new Map(links);
    if (this.ha === null) return;
    const weight = linkWeightValue(this.ha, this.links);
    if (weight === this.weight) return;
    this.deps.log.info({ from: this.weight, to: weight }, "link tracking weight changed");
    this.weight = weight;
    this.tracker.setPriorities(this.ha, weight);
    this.writeWeight();
    this.changed();
  }

  private writeWeight(): void {
    const path = keepalivedTrackFile(this.paths());
    try {
      // a rename is one event for keepalived's inotify watch: it never reads a half-written file
      writeFileSync(`${path}.new`, `${this.weight}\n`);
      renameSync(`${path}.new`, path);
    } catch (e) {
      this.setError(`cannot write ${path}: ${(e as Error).message}`);
    }
  }

  private async configureKeepalived(ha: SpecHa): Promise<void> {
    const conf = renderKeepalivedConf(ha, this.paths());
    const path = this.file("keepalived.conf");
    if (conf === this.keepalivedConf && existsSync(path)) {
      await this.keepalived.ensure(this.keepalivedArgs());
      return;
    }
    writeFileSync(`${path}.new`, conf);
    const check = await this.deps.runner.run([KEEPALIVED, "-t", "-f", `${path}.new`], { timeoutMs: 10_000 });
    if (!ok(check)) {
      // keepalived goes on with the configuration it has
      this.setError(`keepalived refused its configuration: ${describeFailure(check)}`.slice(0, 900));
      return;
    }
    renameSync(`${path}.new`, path);
    const reload = this.keepalivedConf !== "" && this.keepalived.state === "running";
    this.keepalivedConf = conf;
    this.setError("");
    if (reload) {
      if (this.keepalived.signal("SIGHUP")) {
        this.deps.log.info("keepalived reloads its configuration");
        return;
      }
      // no keepalived to reload after all: start it with the new configuration
      await this.keepalived.stop(true);
    }
    await this.keepalived.ensure(this.keepalivedArgs());
  }

  private keepalivedArgs(): string[] {
    return [
      KEEPALIVED,
      "--dont-fork",
      "--log-console",
      "--log-detail",
      "--no-syslog",
      "--vrrp",
      "--use-file",
      this.file("keepalived.conf"),
      "--pid",
      this.file("keepalived.pid"),
      "--vrrp_pid",
      this.file("keepalived-vrrp.pid"),
    ];
  }

  private async configureConntrackd(ha: SpecHa): Promise<void> {
    const conf = renderConntrackdConf(ha, this.paths());
    const path = this.file("conntrackd.conf");
    if (conf === null) {
      this.conntrackdConf = null;
      await this.conntrackd.stop();
      return;
    }
    const changed = conf !== this.conntrackdConf;
    writeFileSync(path, conf);
    this.conntrackdConf = conf;
    if (changed && this.conntrackd.state === "running") await this.conntrackd.stop(true);
    await this.conntrackd.ensure([CONNTRACKD, "-C", path]);
  }

  /** A keepalived left from an agent that was killed holds the pid file: stop it first. */
  private async beforeKeepalived(): Promise<void> {
    await this.removeStale(this.file("keepalived.pid"), "keepalived");
    this.fifo.close();
  }

  private readPid(path: string): number | null {
    try {
      const pid = Number(readFileSync(path, "utf8").trim());
      return Number.isInteger(pid) && pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Stops the daemon a pid file names when it still runs that command, and removes the file. */
  private async removeStale(path: string, command: string): Promise<void> {
    const pid = this.readPid(path);
    if (pid !== null && isCommand(pid, command)) {
      this.deps.log.warn({ pid, command }, "stopping a daemon left from before the agent started");
      try {
        process.kill(pid, "SIGTERM");
        for (let i = 0; i < 50 && isCommand(pid, command); i++) await sleep(100);
      } catch {
        // gone already
      }
    }
    rmSync(path, { force: true });
  }

  private startFifoWatch(): void {
    if (this.fifoTimer !== null) return;
    // keepalived creates the fifo when it starts (and again after a restart): follow it
    this.fifoTimer = setInterval(() => this.fifo.reopen(), 200);
    this.fifoTimer.unref?.();
    this.fifo.reopen();
  }

  private onNotify(text: string): void {
    const line = parseNotifyLine(text);
    if (line === null) return;
    const t = this.tracker.notify(line, this.now());
    if (line.kind === "instance") {
      this.changed();
      return;
    }
    if (t === null) return;
    this.logTransition(t);
    this.changed();
    this.queue = this.queue.then(() => this.syncConnections(t));
  }

  /** conntrackd's sequence for the new state; the commit on promotion is timed. */
  private async syncConnections(t: VrrpTransition): Promise<void> {
    if (this.conntrackdConf === null || this.conntrackd.state !== "running") return;
    const steps = conntrackdSteps(t.to, this.tracker.anyMaster());
    if (steps.length === 0) return;
    const conf = this.file("conntrackd.conf");
    const errors: string[] = [];
    for (const step of steps) {
      const r = await this.deps.runner.run([CONNTRACKD, "-C", conf, step], { timeoutMs: 30_000 });
      if (step === "-c") t.commitMs = Math.round(r.durationMs * 10) / 10;
      if (!ok(r)) errors.push(describeFailure(r));
    }
    t.error = errors.join("; ").slice(0, 1000);
    this.deps.log.info(
      { group: t.group, to: t.to, commitMs: t.commitMs, error: t.error || undefined },
      "connection sync followed the state",
    );
    this.changed();
  }

  private logTransition(t: VrrpTransition): void {
    this.deps.log.info({ group: t.group, from: t.from, to: t.to }, "VRRP state changed");
  }

  /** Removes every virtual address of the spec from its interface (errors: it was not there). */
  private async removeAddresses(): Promise<void> {
    const ha = this.ha;
    if (ha === null) return;
    for (const g of ha.groups) {
      for (const inst of g.instances) {
        for (const address of inst.virtualAddresses) {
          await this.deps.runner.run(["ip", "addr", "del", address, "dev", inst.interface], { timeoutMs: 5_000 });
        }
      }
    }
  }

  status(): HaStatus | undefined {
    if (this.ha === null) return undefined;
    const errors = [this.error, this.keepalived.error, this.conntrackd.error].filter((e) => e !== "");
    return {
      checkedAt: this.now().toISOString(),
      groups: this.tracker.groupStatus(),
      keepalived: this.keepalived.state,
      conntrackd: this.conntrackdConf === null ? "disabled" : this.conntrackd.state,
      transitions: this.tracker.transitionList(),
      error: errors.join("; ").slice(0, 1000),
    };
  }

  private setError(message: string): void {
    if (message !== "") this.deps.log.error({ error: message }, "high availability");
    this.error = message;
    this.changed();
  }

  private changed(): void {
    if (this.ha !== null) this.deps.onChange(this.status());
  }

  /** Stops keepalived and conntrackd and removes the addresses that float with the groups. */
  async stop(): Promise<void> {
    if (this.fifoTimer !== null) clearInterval(this.fifoTimer);
    this.fifoTimer = null;
    await this.keepalived.stop();
    await this.conntrackd.stop();
    this.fifo.close();
    await this.queue;
    await this.removeAddresses();
    this.tracker.stopped(this.now());
    this.ha = null;
    this.keepalivedConf = "";
    this.conntrackdConf = null;
    this.deps.onChange(undefined);
  }
}

/** Only when the drain is new, keepalived runs and is master somewhere, and the peers would not preempt. */
export function needsHandover(ha: SpecHa, wasDrained: boolean, master: boolean, running: boolean): boolean {
  return ha.drained && !wasDrained && !ha.preempt && master && running;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process exists and runs this command (a recycled pid is left alone). */
function isCommand(pid: number, command: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === command;
  } catch {
    return false;
  }
}

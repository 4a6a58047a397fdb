import { ipv4ToBigInt, isIPv4 } from "../../core/address";
import type { CommandRunner } from "../apply/runner";
import type { Logger } from "../log";
import type { GatewaySpec, SpecIsp } from "../../core/spec/schema";
import { fpingArgs, LineSplitter, parseFpingLine } from "./fping";
import { type LinkState, LinkStateMachine, type LinkStatus, type Transition } from "../../core/health/link-state";
import { RoundAggregator } from "../../core/health/rounds";
import type { ProcessSpawner, SpawnedProcess } from "./spawner";

/**
 * Probes every ISP of the running spec: one fping per ISP, restarted with backoff when it exits,
 * its rounds fed to the ISP's state machine. A spec that changes an ISP's probing (interface,
 * targets, monitor settings) restarts that ISP's prober with a fresh state; other ISPs keep
 * probing undisturbed across reloads.
 *
 * fping's socket is bound to the interface as it was when fping started (and to its address): an
 * interface that is deleted and created again (ppp0 when pppd redials) leaves it sending into
 * nothing, without exiting. So an interface whose carrier comes back, or whose address changes,
 * gets its ISPs' probers started afresh (their state machines keep their state).
 */

export interface IspProbeStatus extends LinkStatus {
  ispId: string;
  /** every probe to every target since the prober started */
  probesSent: number;
  probesLost: number;
  /** why probing is not running, empty while it runs */
  proberError: string;
}

export interface MonitorDeps {
  spawner: ProcessSpawner;
  runner: CommandRunner;
  log: Logger;
  /** called on every state change of an ISP */
  onTransition: (ispId: string, transition: Transition) => void;
  now?: () => number;
  /** restart delays after fping exits: base doubled per failure up to the cap */
  restartMs?: { baseMs: number; capMs: number };
}

interface Probe {
  key: string;
  isp: SpecIsp;
  machine: LinkStateMachine;
  rounds: RoundAggregator;
  process: SpawnedProcess | null;
  stopped: boolean;
  failures: number;
  proberError: string;
  restartTimer: NodeJS.Timeout | null;
  /** the source address the running fping was started with (null: the kernel picks) */
  source: string | null;
  /** counts starts, so a start overtaken by a newer one while reading the address gives way */
  starts: number;
}

const probeKey = (isp: SpecIsp) =>
  JSON.stringify([isp.interface, isp.nextHop, [...isp.probeTargets].sort(), isp.monitor]);

interface AddrInfo {
  local?: string;
  prefixlen?: number;
  family?: string;
}

/** The gateway's address on the ISP's link: the one whose subnet holds the next hop, else the first. */
export function pickSourceAddress(ipAddrJson: string, nextHop: string): string | null {
  let links: Array<{ addr_info?: AddrInfo[] }>;
  try {
    links = JSON.parse(ipAddrJson) as Array<{ addr_info?: AddrInfo[] }>;
  } catch {
    return null;
  }
  const addrs = (Array.isArray(links) ? links : [])
    .flatMap((l) => l.addr_info ?? [])
    .filter((a) => typeof a.local === "string" && (a.family === undefined || a.family === "inet"));
  const onLink = addrs.find((a) => {
    const len = a.prefixlen ?? 32;
    if (!isIPv4(a.local ?? "") || !isIPv4(nextHop) || len < 0 || len > 32) return false;
    const shift = BigInt(32 - len);
    return ipv4ToBigInt(a.local as string) >> shift === ipv4ToBigInt(nextHop) >> shift;
  });
  return (onLink ?? addrs[0])?.local ?? null;
}

export class HealthMonitor {
  private readonly probes = new Map<string, Probe>();
  /** carrier per interface as the link watcher last reported it; unknown interfaces count as up */
  private readonly carriers = new Map<string, boolean>();
  private readonly now: () => number;
  private readonly restart: { baseMs: number; capMs: number };

  constructor(private readonly deps: MonitorDeps) {
    this.now = deps.now ?? Date.now;
    this.restart = deps.restartMs ?? { baseMs: 1_000, capMs: 30_000 };
  }

  /** Starts, restarts or stops probers so that exactly the spec's ISPs are probed as it says. */
  async configure(spec: GatewaySpec): Promise<void> {
    const wanted = new Map(spec.isps.map((i) => [i.id, i]));
    for (const [id, probe] of this.probes) {
      const isp = wanted.get(id);
      if (isp === undefined || probeKey(isp) !== probe.key) {
        this.stopProbe(probe);
        this.probes.delete(id);
      } else {
        probe.isp = isp; // names and failover settings may change without touching probing
      }
    }
    for (const isp of spec.isps) {
      if (this.probes.has(isp.id)) continue;
      const probe: Probe = {
        key: probeKey(isp),
        isp,
        machine: new LinkStateMachine(isp.monitor, this.now()),
        rounds: new RoundAggregator(isp.probeTargets),
        process: null,
        stopped: false,
        failures: 0,
        proberError: "",
        restartTimer: null,
        source: null,
        starts: 0,
      };
      this.probes.set(isp.id, probe);
      if (this.carriers.get(isp.interface) === false) this.applyCarrier(probe, false);
      await this.startProbe(probe);
    }
  }

  private async sourceOf(isp: SpecIsp): Promise<string | null> {
    const r = await this.deps.runner.run(["ip", "-j", "-4", "addr", "show", "dev", isp.interface], {
      timeoutMs: 5_000,
    });
    return r.code === 0 ? pickSourceAddress(r.stdout, isp.nextHop) : null;
  }

  private async startProbe(probe: Probe): Promise<void> {
    if (probe.stopped) return;
    const start = ++probe.starts;
    const { isp } = probe;
    const source = await this.sourceOf(isp);
    if (probe.stopped || start !== probe.starts) return;
    probe.source = source;
    let args: string[];
    try {
      args = fpingArgs({ interface: isp.interface, source, targets: isp.probeTargets, monitor: isp.monitor });
    } catch (e) {
      this.proberFailed(probe, `cannot probe ${isp.name}: ${(e as Error).message}`, false);
      return;
    }
    probe.rounds = new RoundAggregator(isp.probeTargets);
    const lines = new LineSplitter();
    let stderr = "";
    const proc = this.deps.spawner.spawn(args, {
      stdout: (chunk) => {
        for (const line of lines.push(chunk)) this.onLine(probe, line);
      },
      stderr: (chunk) => {
        stderr = (stderr + chunk).slice(-2000);
      },
    });
    probe.process = proc;
    this.deps.log.info({ isp: isp.name, args }, "probing");
    void proc.exited.then((exit) => {
      if (probe.process !== proc) return;
      probe.process = null;
      if (probe.stopped) return;
      const why = exit.error ?? (stderr.trim().split("\n").at(-1) || `exit ${exit.code ?? exit.signal}`);
      this.proberFailed(probe, `fping for ${isp.name} stopped: ${why}`, true);
    });
  }

  /** A fresh fping for an ISP whose interface came back or changed address; its state stays. */
  private restartProbe(probe: Probe, why: string): void {
    if (probe.stopped) return;
    if (probe.restartTimer !== null) clearTimeout(probe.restartTimer);
    probe.restartTimer = null;
    const running = probe.process;
    // cleared first: the old process's exit is then no failure
    probe.process = null;
    running?.stop();
    this.deps.log.info({ isp: probe.isp.name, interface: probe.isp.interface, why }, "restarting the prober");
    void this.startProbe(probe);
  }

  /**
   * An address of an ISP interface was added or removed (not one of the agent's own): probers
   * started with another source address than the interface now gives start again.
   */
  async addressChanged(ifname: string): Promise<void> {
    for (const probe of [...this.probes.values()]) {
      if (probe.isp.interface !== ifname || probe.stopped) continue;
      const source = await this.sourceOf(probe.isp);
      if (!probe.stopped && source !== probe.source) this.restartProbe(probe, `its address is now ${source ?? "none"}`);
    }
  }

  private proberFailed(probe: Probe, message: string, retry: boolean): void {
    probe.proberError = message;
    probe.failures++;
    this.deps.log.warn({ isp: probe.isp.name, failures: probe.failures }, message);
    const t = probe.machine.reset(this.now(), message);
    if (t !== null) this.deps.onTransition(probe.isp.id, t);
    if (!retry) return;
    const wait = Math.min(this.restart.capMs, this.restart.baseMs * 2 ** Math.min(probe.failures - 1, 10));
    probe.restartTimer = setTimeout(() => {
      probe.restartTimer = null;
      void this.startProbe(probe);
    }, wait);
    probe.restartTimer.unref?.();
  }

  private onLine(probe: Probe, line: string): void {
    const sample = parseFpingLine(line);
    if (sample === null) return;
    const round = probe.rounds.add(sample);
    if (round === null) return;
    if (probe.proberError !== "") {
      probe.proberError = "";
      probe.failures = 0;
    }
    const t = probe.machine.observe(round, this.now());
    if (t !== null) this.deps.onTransition(probe.isp.id, t);
  }

  private stopProbe(probe: Probe): void {
    probe.stopped = true;
    if (probe.restartTimer !== null) clearTimeout(probe.restartTimer);
    probe.process?.stop();
    probe.process = null;
  }

  /**
   * The link watcher's word on an interface's carrier: a loss takes its ISPs down at once; its
   * return only lets the probes bring them up again (core/health/link-state.ts).
   */
  carrier(ifname: string, up: boolean): void {
    const before = this.carriers.get(ifname);
    this.carriers.set(ifname, up);
    if (before === up) return;
    for (const probe of this.probes.values()) {
      if (probe.isp.interface !== ifname) continue;
      this.applyCarrier(probe, up);
      // the interface may be a new one by the same name (ppp0 after a redial)
      if (up && before === false) this.restartProbe(probe, "its interface is back");
    }
  }

  /** The carriers of all interfaces at once (after the watcher starts or restarts). */
  syncCarriers(carriers: Map<string, boolean>): void {
    for (const [ifname, up] of carriers) this.carrier(ifname, up);
    // an ISP interface that is missing altogether has no carrier either
    for (const probe of this.probes.values()) {
      if (!carriers.has(probe.isp.interface)) this.carrier(probe.isp.interface, false);
    }
  }

  private applyCarrier(probe: Probe, up: boolean): void {
    if (up) {
      if (probe.machine.hasCarrier()) return;
      probe.machine.carrierRestored(this.now());
      this.deps.log.info({ isp: probe.isp.name, interface: probe.isp.interface }, "carrier is back");
      return;
    }
    const t = probe.machine.carrierLost(this.now(), `no carrier on ${probe.isp.interface}`);
    if (t !== null) this.deps.onTransition(probe.isp.id, t);
  }

  states(): Map<string, LinkState> {
    return new Map([...this.probes].map(([id, p]) => [id, p.machine.status().state]));
  }

  status(): IspProbeStatus[] {
    return [...this.probes.values()].map((p) => ({
      ispId: p.isp.id,
      ...p.machine.status(),
      probesSent: p.rounds.probesSent,
      probesLost: p.rounds.probesLost,
      proberError: p.proberError,
    }));
  }

  stop(): void {
    for (const p of this.probes.values()) this.stopProbe(p);
    this.probes.clear();
  }
}

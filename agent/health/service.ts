import { setTimeout as delay } from "node:timers/promises";
import { Datapath, type RuleCounterKeys } from "../apply/datapath";
import { NftShell } from "../apply/nft-shell";
import type { RealServerTraffic, VirtualServiceStatus } from "../../core/protocol/virtual-service-status";
import { type RunCheck, runCheck } from "../vs/checks";
import { VirtualServiceHealthChecker } from "../vs/health-checker";
import { fitStatus, withTraffic } from "../vs/traffic";
import { VirtualServiceTraffic } from "../vs/traffic-reader";
import type { IpRuleCheck } from "../../core/protocol/agent-api";
import type { CommandRunner } from "../apply/runner";
import { MAX_HEALTH_BYTES } from "../../core/protocol/agent-api";
import type { ApplyOutcome } from "../cli/loop";
import type { Logger } from "../log";
import type { GatewaySpec } from "../../core/spec/schema";
import { PoolUsageReader, readConntrackCount, usageIsQuiet } from "./pool-usage-reader";
import { FailoverController } from "./controller";
import { OWNED_ADDRESS_METRIC } from "../../core/spec/marks";
import { ArpWatch } from "./arp-watch";
import { type LearnedUplink, withLearnedUplinks } from "../../core/spec/learned-uplinks";
import { learnUplinks } from "./uplink-learn";
import { LinkWatcher, parseLinkCarriers } from "./link-watch";
import { HealthMonitor } from "./monitor";
import {
  CONNTRACK_COUNT_MS,
  type FailoverEvent,
  type HealthReport,
  type HealthSample,
  type IspHealth,
  POOL_USAGE_MS,
  POOL_USAGE_QUIET_FACTOR,
  type PoolUsageReport,
  sampleIspOf,
} from "../../core/protocol/health-report";
import { HealthReporter, healthById } from "./reporter";
import { readIntervalMs } from "./rule-counter-reader";
import { RuleCounterShell } from "./rule-counter-shell";
import type { RuleCounterTally } from "./rule-counters";
import { RULE_COUNTER_READ_MS, RULE_HIT_IDLE_MS } from "../../core/protocol/agent-api";
import { deleteRuleCounters } from "../../core/render/nft";
import { HaSupervisor } from "../ha/supervisor";
import type { HaStatus } from "../../core/protocol/agent-api";
import type { ProcessSpawner } from "./spawner";

/**
 * Link health and local failover as one piece for the agent's run loop: the loop hands every
 * spec to `apply`, which applies it with the failover state health calls for and points the
 * probers at its ISPs; `run` keeps reporting until the agent stops.
 */

/**
 * ip rule changes arrive as events (link-watch.ts, and a restarted monitor reads them again); the
 * timer only catches what the monitor missed, so it may be slow: a read of the rules is a process
 */
const RULE_CHECK_MS = 300_000;
const RULE_EVENT_SETTLE_MS = 200;
const VS_TRAFFIC_MS = 1000;

export interface HealthServiceDeps {
  runner: CommandRunner;
  spawner: ProcessSpawner;
  log: Logger;
  agentVersion: string;
  post: (report: HealthReport, signal: AbortSignal) => Promise<unknown>;
  /** also hands the per-ISP health to the status report, so both reports agree */
  setStatusHealth?: (health: Record<string, unknown>) => void;
  /** the latest check of the operator's ip rules against Gatehouse's (status report) */
  setIpRules?: (check: IpRuleCheck) => void;
  /** the kernel reported a link or address change, or the watcher (re)started: the gateway's facts may be stale */
  onInterfacesChanged?: () => void;
  /** the virtual services' real server health (status report), after every change */
  setVirtualServices?: (status: VirtualServiceStatus[]) => void;
  /** where keepalived's and conntrackd's files live (a spec with high availability needs it) */
  haDir?: string;
  /** VRRP and connection sync (status report), after every change */
  setHa?: (status: HaStatus | undefined) => void;
  /** every failover event as it is handed to the reporter (metrics) */
  onFailoverEvent?: (e: FailoverEvent) => void;
  /** how real servers are checked; default: from this process (agent/vs/checks.ts) */
  runCheck?: RunCheck;
  /** how often DHCP and PPPoE uplinks are re-read (their address and next hop) */
  uplinkPollMs?: number;
  /** how often the ip rules are re-read: operators add rules while the agent runs */
  ruleCheckIntervalMs?: number;
  reportIntervalMs?: number;
  countIntervalMs?: number;
  /** how often port usage per pool address is read (a dump of the SNATed connections) */
  poolUsageIntervalMs?: number;
  /** how often virtual service traffic is sampled (and reported, when it moved) */
  vsTrafficIntervalMs?: number;
  /** where the rules' counter readings go (the status report takes the deltas from it) */
  ruleCounters?: RuleCounterTally;
  ruleCounterIntervalMs?: number;
  /** the share of the time reading the counters may take (rule-counter-reader.ts, READ_SHARE) */
  ruleCounterReadShare?: number;
  /** how long a rule's counters may stay unmoved in the kernel's set before the agent deletes them */
  ruleCounterIdleMs?: number;
  tmpDir?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

/**
 * The same health for the status report, whose health field is capped (MAX_HEALTH_BYTES): with
 * very many ISPs the words are left out and the figures kept.
 */
export function statusHealth(at: string, isps: IspHealth[], conntrackTotal: number | null): Record<string, unknown> {
  const full = { at, isps: healthById(isps), conntrackTotal };
  if (JSON.stringify(full).length <= MAX_HEALTH_BYTES - 1024) return full;
  const compact = isps.map((i) => ({ ...i, reason: "", proberError: "", alert: i.alert === "" ? "" : "alert" }));
  return { at, isps: healthById(compact), conntrackTotal, compact: true };
}

export class HealthService {
  readonly monitor: HealthMonitor;
  readonly controller: FailoverController;
  readonly reporter: HealthReporter;
  /** connections in the conntrack table at the last count; null before the first or when unreadable */
  private conntrackCount: number | null = null;
  private readonly poolUsageReader: PoolUsageReader;
  private readonly counterShell: RuleCounterShell;
  private readonly links: LinkWatcher;
  private readonly arp = new ArpWatch();
  private lastLoad: HealthReport["lastLoad"] = null;
  private readonly datapath: Datapath;
  private lastConflicts = "[]";
  readonly virtualServices: VirtualServiceHealthChecker;
  readonly ha: HaSupervisor | null;
  private readonly vsTraffic: VirtualServiceTraffic;
  private lastVsTraffic = new Map<string, RealServerTraffic>();
  /** the spec as the console sent it; what runs has the learned next hops of dynamic uplinks */
  private received: GatewaySpec | null = null;
  private learned = new Map<string, LearnedUplink & { at: string }>();
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HealthServiceDeps) {
    this.ha =
      deps.haDir === undefined
        ? null
        : new HaSupervisor({
            runner: deps.runner,
            spawner: deps.spawner,
            log: deps.log,
            dir: deps.haDir,
            onChange: (status) => deps.setHa?.(status),
          });
    this.monitor = new HealthMonitor({
      spawner: deps.spawner,
      runner: deps.runner,
      log: deps.log,
      onTransition: (ispId, t) => {
        const isp = this.controller.running()?.isps.find((i) => i.id === ispId)?.name ?? ispId;
        deps.log.info({ isp, from: t.from, to: t.to, reason: t.reason }, "link state changed");
        this.controller.healthChanged(ispId, t);
        this.ha?.linksChanged(this.monitor.states());
        this.reporter.kick();
      },
    });
    this.datapath = new Datapath({
      runner: deps.runner,
      tmpDir: deps.tmpDir,
      shell: new NftShell({ spawner: deps.spawner, tmpDir: deps.tmpDir }),
      warn: (message, error) => deps.log.warn({ error }, message),
    });
    this.virtualServices = new VirtualServiceHealthChecker({
      runCheck: deps.runCheck ?? runCheck,
      update: (spec, serviceId, down, drop) => this.datapath.updateVirtualService(spec, serviceId, down, drop),
      onChange: () => deps.setVirtualServices?.(this.vsStatus()),
      log: (message) => deps.log.info(message),
    });
    this.controller = new FailoverController({
      datapath: this.datapath,
      health: () => this.monitor.states(),
      log: deps.log,
      onEvent: (e) => {
        this.reporter.event(e);
        deps.onFailoverEvent?.(e);
      },
      onSwitched: () => this.reporter.kick(),
      onLoaded: (spec, ms) => {
        // what the console tracks an operator's failover by: report it before anything else
        this.lastLoad = {
          revision: spec.revision,
          failoverEpoch: spec.failoverEpoch,
          at: new Date().toISOString(),
          ms: Math.min(86_400_000, Math.round(ms * 10) / 10),
        };
        this.specMoved();
        this.reporter.kick();
      },
    });
    this.reporter = new HealthReporter({
      post: deps.post,
      build: () => this.build(),
      sample: () => this.sample(),
      log: deps.log,
      intervalMs: deps.reportIntervalMs,
    });
    this.poolUsageReader = new PoolUsageReader(deps.runner, deps.spawner);
    this.counterShell = new RuleCounterShell({ spawner: deps.spawner, tmpDir: deps.tmpDir });
    this.vsTraffic = new VirtualServiceTraffic(deps.runner);
    this.links = new LinkWatcher({
      spawner: deps.spawner,
      log: deps.log,
      onEvent: (e) => {
        if (e.kind === "rule") {
          this.scheduleRuleCheck();
          return;
        }
        deps.onInterfacesChanged?.();
        if (e.kind === "link") this.monitor.carrier(e.ifname, e.carrier);
        // a DHCP or PPPoE uplink's new address: its probes must leave from it
        if (e.kind === "address" && e.metric !== OWNED_ADDRESS_METRIC) {
          void this.monitor
            .addressChanged(e.ifname)
            .catch((err: unknown) => deps.log.warn({ err }, "cannot follow an address change"));
        }
        // an uplink that comes back (or reappears) may have lost its routes; an on-link address
        // of the agent's may have been deleted by someone: add what the running spec needs
        const isIsp = this.controller.running()?.isps.some((i) => i.interface === e.ifname) ?? false;
        if (
          (e.kind === "link" && e.carrier && isIsp) ||
          (e.kind === "address" && e.deleted && e.metric === OWNED_ADDRESS_METRIC)
        ) {
          this.scheduleRestore();
        }
      },
      onStarted: () => {
        // events may have been missed before (or between) monitors
        deps.onInterfacesChanged?.();
        void this.readCarriers();
      },
    });
  }

  /** Whether link and address changes are being watched (from the first spec loaded on). */
  watchingLinks(): boolean {
    return this.links.running;
  }

  private restoreTimer: NodeJS.Timeout | null = null;
  private ruleCheckTimer: NodeJS.Timeout | null = null;

  /**
   * Someone added or deleted an ip rule: the conflicts are read again once the burst is over (an
   * apply of the agent's own, or a script adding a dozen rules, is one check).
   */
  private scheduleRuleCheck(): void {
    if (this.ruleCheckTimer !== null) return;
    this.ruleCheckTimer = setTimeout(() => {
      this.ruleCheckTimer = null;
      const spec = this.controller.running();
      if (spec !== null) void this.checkIpRules(spec);
    }, RULE_EVENT_SETTLE_MS);
  }

  private specWaiters: Array<() => void> = [];

  /**
   * Resolves when a spec is next received or loaded (or the signal aborts): a loop with nothing
   * to do under the running spec waits here instead of waking every second to find that out.
   */
  private nextSpec(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.specWaiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** counts specMoved calls: a loop that read before a wait can tell that a spec moved meanwhile */
  private specMoves = 0;

  private specMoved(): void {
    this.specMoves++;
    for (const done of this.specWaiters.splice(0)) done();
  }

  /** One restore for a burst of events, half a second after the first. */
  private scheduleRestore(): void {
    if (this.restoreTimer !== null) return;
    this.restoreTimer = setTimeout(() => {
      this.restoreTimer = null;
      void this.controller.restoreRouting().catch((e: unknown) => this.deps.log.warn({ err: e }, "restore failed"));
    }, 500);
    this.restoreTimer.unref?.();
  }

  private async readCarriers(): Promise<void> {
    const r = await this.deps.runner.run(["ip", "-j", "link", "show"], { timeoutMs: 5_000 });
    if (r.code === 0) this.monitor.syncCarriers(parseLinkCarriers(r.stdout));
    else this.deps.log.warn({ error: r.stderr.trim().slice(0, 400) }, "cannot read the interfaces' carrier");
  }

  /**
   * The loop's apply: the datapath with failover, then probing follows the loaded spec. Applies
   * run one at a time (a learned next hop re-applies on its own), each with what was learned.
   */
  apply(spec: GatewaySpec): Promise<ApplyOutcome> {
    this.received = spec;
    this.specMoved();
    const run = this.applying.then(() => this.applyNow(withLearnedUplinks(spec, this.learned)));
    this.applying = run.catch(() => {});
    return run;
  }

  private async applyNow(spec: GatewaySpec): Promise<ApplyOutcome> {
    // before: what the new rules will be up against; after: what they are up against now
    await this.checkIpRules(spec);
    const outcome = await this.controller.applySpec(spec);
    if (outcome.loaded) {
      await this.monitor.configure(spec);
      await this.applyHa(spec);
      this.links.start();
      const running = this.controller.running() ?? spec;
      // real servers are checked from the first moment the spec runs; the report follows
      void this.virtualServices.setSpec(running).then(() => this.deps.setVirtualServices?.(this.vsStatus()));
    }
    await this.checkIpRules(this.controller.running() ?? spec);
    return outcome;
  }

  /** keepalived and conntrackd follow the spec's ha section; a spec without one stops them. */
  private async applyHa(spec: GatewaySpec): Promise<void> {
    if (this.ha === null) {
      if (spec.ha !== null) this.deps.log.error("the spec has high availability but the agent has no directory for it");
      return;
    }
    this.ha.linksChanged(this.monitor.states());
    await this.ha.setSpec(spec.ha).catch((e: unknown) => this.deps.log.error({ err: e }, "high availability"));
  }

  /** Reads the ip rules and reports the operator rules that would override Gatehouse's. */
  async checkIpRules(spec: GatewaySpec): Promise<void> {
    const r = await this.datapath
      .ruleConflicts(spec)
      .catch((e: unknown) => ({ conflicts: [], error: e instanceof Error ? e.message : String(e) }));
    const key = JSON.stringify(r.conflicts);
    if (key !== this.lastConflicts) {
      this.lastConflicts = key;
      if (r.conflicts.length > 0) {
        this.deps.log.error(
          { conflicts: r.conflicts },
          "operator ip rules come before Gatehouse's and can override its redirects and failovers",
        );
      } else this.deps.log.info("no operator ip rule overrides Gatehouse's any more");
    }
    this.deps.setIpRules?.({ checkedAt: new Date().toISOString(), conflicts: r.conflicts, error: r.error ?? "" });
  }

  private async ruleLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.ruleCheckIntervalMs ?? RULE_CHECK_MS;
    while (!signal.aborted) {
      await delay(every, undefined, { signal }).catch(() => {});
      const spec = this.controller.running();
      if (spec !== null && !signal.aborted) {
        await this.checkIpRules(spec);
      }
    }
  }

  /** Connections in the conntrack table at the last count; null before the first. */
  conntrackTotal(): number | null {
    return this.conntrackCount;
  }

  /** Port usage per pool address and conntrack's counters at the last read; null before the first. */
  poolUsage(): PoolUsageReport | null {
    return this.poolUsageReader.latest();
  }

  ispHealth(): IspHealth[] {
    const spec = this.controller.running();
    const { active, alerts, held } = this.controller.snapshot();
    const counts = this.poolUsageReader.ispConnections();
    return this.monitor.status().map((s) => {
      const f = active.get(s.ispId);
      const index = spec?.isps.find((i) => i.id === s.ispId)?.index;
      return {
        ispId: s.ispId,
        state: s.state,
        since: iso(s.since),
        reason: s.reason.slice(0, 400),
        lossPct: round1(s.lossPct),
        rttMs: s.rttMs === null ? null : Math.round(s.rttMs * 1000) / 1000,
        lastRttMs: s.lastRttMs,
        probesSent: s.probesSent,
        probesLost: s.probesLost,
        proberError: s.proberError.slice(0, 400),
        failover: f === undefined ? null : { backupIspId: f.backupIspId, mode: f.mode, since: iso(f.since) },
        held: held.has(s.ispId),
        alert: (alerts.find((a) => a.ispId === s.ispId)?.message ?? "").slice(0, 600),
        connections: index === undefined ? null : (counts.get(index) ?? null),
        unansweredArp: this.arp.unanswered(s.ispId),
        ...this.learnedHealth(s.ispId),
      };
    });
  }

  /** One second's link figures for the console's history (the reporter's samples between reports). */
  private sample(): HealthSample {
    return {
      at: new Date().toISOString(),
      isps: this.ispHealth().map(sampleIspOf),
    };
  }

  private build(): Omit<HealthReport, "events" | "samples"> {
    const isps = this.ispHealth();
    const at = new Date().toISOString();
    const conntrackTotal = this.conntrackCount;
    this.deps.setStatusHealth?.(statusHealth(at, isps, conntrackTotal));
    return {
      agentVersion: this.deps.agentVersion,
      at,
      // the last load's key, not the controller's spec: the two change together only here
      running:
        this.lastLoad === null
          ? null
          : { revision: this.lastLoad.revision, failoverEpoch: this.lastLoad.failoverEpoch },
      lastLoad: this.lastLoad,
      isps,
      conntrackTotal,
      poolUsage: this.poolUsageReader.latest(),
    };
  }

  private async poolUsageLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.poolUsageIntervalMs ?? POOL_USAGE_MS;
    while (!signal.aborted) {
      const spec = this.controller.running();
      if (spec === null) {
        await this.nextSpec(signal);
        continue;
      }
      const started = performance.now();
      const usage = await this.poolUsageReader.refresh(spec);
      // a big table makes the read dear: it never takes more than a tenth of the agent's time
      const took = performance.now() - started;
      const next = Math.max(every, took * 10);
      await delay(next, undefined, { signal }).catch(() => {});
      // quiet (usageIsQuiet): later, unless the table moves meanwhile (countLoop reads its count)
      const quietUntil = started + next * POOL_USAGE_QUIET_FACTOR;
      const step = this.deps.countIntervalMs ?? CONNTRACK_COUNT_MS;
      while (!signal.aborted && performance.now() < quietUntil && this.controller.running() === spec) {
        if (!usageIsQuiet(usage, usage?.conntrack?.count ?? null, this.conntrackCount)) break;
        await delay(Math.min(step, quietUntil - performance.now()), undefined, { signal }).catch(() => {});
      }
    }
  }

  /** The table's fill for every report: a file read, no process, on the gateway. */
  private async countLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.countIntervalMs ?? CONNTRACK_COUNT_MS;
    while (!signal.aborted) {
      if (this.controller.running() === null) {
        await this.nextSpec(signal);
        continue;
      }
      this.conntrackCount = await readConntrackCount(this.deps.runner);
      await delay(every, undefined, { signal }).catch(() => {});
    }
  }

  /** Real server health with the last traffic sample. */
  private vsStatus(): VirtualServiceStatus[] {
    const spec = this.controller.running();
    const status = this.virtualServices.status();
    return fitStatus(spec === null ? status : withTraffic(status, spec, this.lastVsTraffic));
  }

  /** Virtual service traffic, about once a second while the spec has services (traffic-reader.ts). */
  private async vsTrafficLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.vsTrafficIntervalMs ?? VS_TRAFFIC_MS;
    let warned = false;
    while (!signal.aborted) {
      const spec = this.controller.running();
      if (spec === null || spec.virtualServices.length === 0) {
        await this.nextSpec(signal);
        continue;
      }
      try {
        this.lastVsTraffic = await this.vsTraffic.sample(spec);
        warned = false;
        this.deps.setVirtualServices?.(this.vsStatus());
      } catch (e) {
        if (!warned)
          this.deps.log.warn(
            { err: e instanceof Error ? e.message : String(e) },
            "cannot read virtual service traffic",
          );
        warned = true;
      }
      await delay(every, undefined, { signal }).catch(() => {});
    }
  }

  /** The rules' counters: a reading every few seconds while a spec runs, through a long-lived nft (rule-counter-shell.ts). */
  private async ruleCounterLoop(signal: AbortSignal): Promise<void> {
    const tally = this.deps.ruleCounters;
    if (tally === undefined) return;
    const every = this.deps.ruleCounterIntervalMs ?? RULE_COUNTER_READ_MS;
    let warned = false;
    while (!signal.aborted) {
      let wait = every;
      if (this.controller.running() === null) {
        await this.nextSpec(signal);
        continue;
      }
      const keys = this.datapath.ruleCounterKeys();
      if (keys === null) {
        await this.nextSpec(signal);
        continue;
      }
      try {
        const at = new Date().toISOString();
        const moves = this.specMoves;
        const read = await this.counterShell.read(keys.keys);
        // a load while nft listed may have given a slot to another rule: the next reading tells
        if (this.datapath.ruleCounterKeys() === keys) {
          tally.observe(read.counters, at, keys.rules);
          await this.sweepIdleCounters(tally, keys);
        }
        wait = readIntervalMs(every, read.durationMs, this.deps.ruleCounterReadShare);
        warned = false;
        if (read.noSet) {
          // no rule is counted under this spec: nothing to read until another one loads (unless
          // one loaded while this read ran)
          if (this.specMoves === moves) await this.nextSpec(signal);
          continue;
        }
      } catch (e) {
        if (!warned)
          this.deps.log.warn({ err: e instanceof Error ? e.message : String(e) }, "cannot read the rule counters");
        warned = true;
      }
      await delay(wait, undefined, { signal }).catch(() => {});
    }
  }

  /**
   * Deletes from the kernel's set the counters of rules that have not moved for RULE_HIT_IDLE_MS
   * (their last reading holds all they counted), so a read lists the busy rules only. A packet in
   * the few milliseconds between that reading and the delete would not be counted.
   */
  private async sweepIdleCounters(tally: RuleCounterTally, keys: RuleCounterKeys): Promise<void> {
    const idle = new Set(tally.idle(Date.now(), this.deps.ruleCounterIdleMs ?? RULE_HIT_IDLE_MS));
    if (idle.size === 0) return;
    const gone = keys.from.filter((e) => idle.has(e.ruleId)).map((e) => e.key);
    const r = await this.deps.runner.run(["nft", "-f", "-"], {
      input: `${deleteRuleCounters(gone).join("\n")}\n`,
      timeoutMs: 10_000,
    });
    if (r.code === 0) tally.deleted([...idle]);
    else this.deps.log.warn({ error: r.stderr.trim().slice(0, 400) }, "cannot delete idle rule counters");
  }

  /** ARP requests for on-link pool addresses that nobody answers (arp-watch.ts). */
  private async arpLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const spec = this.controller.running();
      if (!spec?.pools.some((p) => p.mode === "on-link")) {
        await this.nextSpec(signal);
        continue;
      }
      await this.arp.refresh(this.deps.runner, spec);
      await delay(2_000, undefined, { signal }).catch(() => {});
    }
  }

  private learnedHealth(ispId: string): Pick<IspHealth, "learned"> {
    const l = this.learned.get(ispId);
    return l === undefined ? {} : { learned: { address: l.address, nextHop: l.nextHop, at: l.at } };
  }

  /**
   * DHCP and PPPoE uplinks: what their clients set on the interface is read every second (two
   * `ip -j` calls, only while the spec has such an ISP); a changed next hop re-applies the spec,
   * so routes, the classifier and the probes follow it. A changed address alone needs nothing:
   * interface-address pools masquerade to whatever address the interface has.
   */
  async refreshUplinks(): Promise<boolean> {
    const spec = this.received;
    if (spec === null || spec.isps.every((i) => i.addressing === "static")) return false;
    const [routes, addrs] = await Promise.all([
      this.deps.runner.run(["ip", "-j", "-4", "route", "show", "table", "main"], { timeoutMs: 5_000 }),
      this.deps.runner.run(["ip", "-j", "-4", "addr", "show"], { timeoutMs: 5_000 }),
    ]);
    if (routes.code !== 0 || addrs.code !== 0) {
      this.deps.log.warn({ error: (routes.stderr + addrs.stderr).trim().slice(0, 400) }, "cannot read the uplinks");
      return false;
    }
    let found: LearnedUplink[];
    try {
      found = learnUplinks(spec, routes.stdout, addrs.stdout);
    } catch (e) {
      this.deps.log.warn({ err: e instanceof Error ? e.message : String(e) }, "cannot read the uplinks");
      return false;
    }
    let nextHopMoved = false;
    let changed = found.length !== this.learned.size;
    const now = new Date().toISOString();
    const next = new Map<string, LearnedUplink & { at: string }>();
    for (const l of found) {
      const before = this.learned.get(l.ispId);
      const same = before !== undefined && before.address === l.address && before.nextHop === l.nextHop;
      next.set(l.ispId, same ? before : { ...l, at: now });
      if (same) continue;
      changed = true;
      const isp = spec.isps.find((i) => i.id === l.ispId);
      this.deps.log.info(
        { isp: isp?.name, interface: l.interface, address: l.address, nextHop: l.nextHop, was: before ?? null },
        "uplink address or next hop changed",
      );
      if ((before?.nextHop ?? null) !== l.nextHop && l.nextHop !== null) nextHopMoved = true;
    }
    this.learned = next;
    if (nextHopMoved) {
      const outcome = await this.apply(spec);
      if (!outcome.ok) this.deps.log.error({ error: outcome.error }, "re-applying with the learned next hop failed");
    }
    if (changed) this.reporter.kick();
    return nextHopMoved;
  }

  private async uplinkLoop(signal: AbortSignal): Promise<void> {
    const every = this.deps.uplinkPollMs ?? 1_000;
    while (!signal.aborted) {
      if (this.received === null || this.received.isps.every((i) => i.addressing === "static")) {
        await this.nextSpec(signal);
        continue;
      }
      await this.refreshUplinks().catch((e: unknown) => this.deps.log.warn({ err: e }, "uplink refresh failed"));
      await delay(every, undefined, { signal }).catch(() => {});
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    try {
      await Promise.all([
        this.uplinkLoop(signal),
        this.reporter.run(signal),
        this.countLoop(signal),
        this.poolUsageLoop(signal),
        this.ruleLoop(signal),
        this.arpLoop(signal),
        this.vsTrafficLoop(signal),
        this.ruleCounterLoop(signal),
      ]);
    } finally {
      if (this.restoreTimer !== null) clearTimeout(this.restoreTimer);
      if (this.ruleCheckTimer !== null) clearTimeout(this.ruleCheckTimer);
      this.links.stop();
      this.monitor.stop();
      this.datapath.close();
      this.counterShell.stop();
      this.virtualServices.stop();
      await this.ha?.stop();
    }
  }
}

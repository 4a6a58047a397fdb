import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type HaStatus, VRRP_STATES } from "../../core/protocol/agent-api";
import type { ApplyResult, SpecKey } from "../../core/protocol/agent-api";
import type { FailoverEvent, PoolUsageReport } from "../../core/protocol/health-report";
import { addressFillPct } from "../../core/health/port-usage";
import type { VirtualServiceStatus } from "../../core/protocol/virtual-service-status";

/**
 * The agent's Prometheus metrics (docs/metrics.md lists them). Gauges are read from the agent's
 * own state when scraped, so they say what the agent would report to the console at that moment;
 * counters count applies and failover events as they happen. Labels name ISPs, VRRP groups and
 * virtual services of the running spec: bounded by the spec, never by traffic.
 */

export interface IspSample {
  /** the ISP's name in the running spec */
  isp: string;
  state: string;
  lossPct: number | null;
  rttMs: number | null;
  failedOver: boolean;
  /** connections the gateway tracks through this ISP; null: not counted yet */
  connections: number | null;
}

export interface AgentMetricSources {
  isps(): IspSample[];
  conntrackTotal(): number | null;
  running(): SpecKey | null;
  ha(): HaStatus | undefined;
  /** with each service's name, for the labels */
  virtualServices(): Array<VirtualServiceStatus & { name: string }>;
  /** the last pool usage count, with the pools' names for the labels; null before the first */
  poolUsage?(): { report: PoolUsageReport; poolName: (id: string) => string } | null;
  /** every counted rule's counters as the agent counted them (RuleCounterTally.latest); absent: not read */
  rules?(): RuleSample[];
}

export interface RuleSample {
  ruleId: string;
  /** the rule's place in the running spec's order; null: not in it (any more) */
  position: number | null;
  /** new connections: the kernel counter at the agent's first reading plus all it moved since */
  connections: number;
  /** packets and bytes of the rule's connections, both ways, counted likewise */
  packets: number;
  bytes: number;
  /** when the agent last saw the counter move; null: not since it started */
  lastHitAt: string | null;
}

const seconds = (ms: number) => ms / 1000;

/** The time an apply took: its phases added up (each phase is timed once). */
export function applySeconds(result: ApplyResult): number {
  return seconds(Object.values(result.durationsMs).reduce((a, b) => a + b, 0));
}

/** how often the event loop's lag is sampled for the nodejs_eventloop_lag metrics */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly applies: Counter<"outcome">;
  private readonly applyDuration: Histogram;
  private readonly failovers: Counter<"isp" | "kind" | "mode">;
  private readonly switchDuration: Histogram;

  constructor(sources: AgentMetricSources) {
    const registers = [this.registry];
    // the event loop lag is sampled by a timer: prom-client's 10 ms wakes the agent 100 times a
    // second (0.4% of a core measured here, more than all its work when idle); 100 ms costs 0.08%
    // and still catches a loop that stalls
    collectDefaultMetrics({
      register: this.registry,
      prefix: "gatehouse_agent_",
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
    // prom-client reports these gauges with a _total suffix, which Prometheus keeps for counters
    // (`promtool check metrics` refuses them): left out
    for (const gauge of ["handles", "requests", "resources"])
      this.registry.removeSingleMetric(`gatehouse_agent_nodejs_active_${gauge}_total`);
    this.applies = new Counter({
      name: "gatehouse_agent_applies_total",
      help: "Specs this agent applied, by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.applyDuration = new Histogram({
      name: "gatehouse_agent_apply_duration_seconds",
      help: "Time a full apply took (check, routing, load, prune)",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.failovers = new Counter({
      name: "gatehouse_agent_failover_events_total",
      help: "Failovers, failbacks and alerts this agent carried out or raised, by ISP, kind and mode",
      labelNames: ["isp", "kind", "mode"],
      registers,
    });
    this.switchDuration = new Histogram({
      name: "gatehouse_agent_failover_switch_seconds",
      help: "From the decision to the new ruleset in the kernel, per failover or failback",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    const ispGauge = (name: string, help: string, value: (s: IspSample) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ["isp"],
        registers,
        collect() {
          this.reset();
          for (const s of sources.isps()) {
            const v = value(s);
            if (v !== null) this.set({ isp: s.isp }, v);
          }
        },
      });
    ispGauge("gatehouse_agent_isp_up", "1 while the ISP's link is up as the probes see it, else 0", (s) =>
      s.state === "up" ? 1 : 0,
    );
    ispGauge("gatehouse_agent_isp_loss_ratio", "Probe loss over the monitor's window, 0 to 1", (s) =>
      s.lossPct === null ? null : s.lossPct / 100,
    );
    ispGauge("gatehouse_agent_isp_rtt_seconds", "Mean probe round-trip time", (s) =>
      s.rttMs === null ? null : seconds(s.rttMs),
    );
    ispGauge("gatehouse_agent_isp_failed_over", "1 while the ISP's traffic is failed over to a backup", (s) =>
      s.failedOver ? 1 : 0,
    );
    ispGauge("gatehouse_agent_isp_connections", "Connections tracked through the ISP", (s) => s.connections);
    new Gauge({
      name: "gatehouse_agent_conntrack_entries",
      help: "Connections in the gateway's conntrack table",
      registers,
      collect() {
        const n = sources.conntrackTotal();
        if (n !== null) this.set(n);
      },
    });
    new Gauge({
      name: "gatehouse_agent_running_revision",
      help: "The published revision the datapath enforces (0: none yet)",
      registers,
      collect() {
        this.set(sources.running()?.revision ?? 0);
      },
    });
    new Gauge({
      name: "gatehouse_agent_running_failover_epoch",
      help: "The failover epoch the datapath enforces",
      registers,
      collect() {
        this.set(sources.running()?.failoverEpoch ?? 0);
      },
    });
    new Gauge({
      name: "gatehouse_agent_vrrp_state",
      help: "1 for each VRRP group's current state (master, backup, fault, stopped, unknown), 0 for the others",
      labelNames: ["group", "state"],
      registers,
      collect() {
        this.reset();
        for (const g of sources.ha()?.groups ?? []) {
          for (const state of VRRP_STATES) this.set({ group: g.name, state }, g.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "gatehouse_agent_ha_process_running",
      help: "1 while keepalived or conntrackd runs as the agent's child (absent without high availability)",
      labelNames: ["process"],
      registers,
      collect() {
        this.reset();
        const ha = sources.ha();
        if (ha === undefined) return;
        this.set({ process: "keepalived" }, ha.keepalived === "running" ? 1 : 0);
        if (ha.conntrackd !== "disabled") this.set({ process: "conntrackd" }, ha.conntrackd === "running" ? 1 : 0);
      },
    });
    new Gauge({
      name: "gatehouse_agent_real_server_up",
      help: "1 while a virtual service's real server passes its health check (or has none), else 0",
      labelNames: ["service", "server"],
      registers,
      collect() {
        this.reset();
        for (const s of sources.virtualServices()) {
          for (const r of s.realServers) {
            const server = r.port === null ? r.address : `${r.address}:${r.port}`;
            this.set({ service: s.name, server }, r.health === "down" ? 0 : 1);
          }
        }
      },
    });
    // what the kernel's counters held at the agent's first reading plus all they moved since: they
    // only grow while the agent runs (a restart starts them again), as Prometheus expects of a counter
    const ruleCounter = (name: string, help: string, value: (r: RuleSample) => number) =>
      new Counter({
        name,
        help,
        labelNames: ["rule", "position"],
        registers,
        collect() {
          this.reset();
          for (const r of sources.rules?.() ?? []) {
            this.inc({ rule: r.ruleId, position: r.position === null ? "" : String(r.position) }, value(r));
          }
        },
      });
    ruleCounter(
      "gatehouse_agent_rule_connections_total",
      "New connections each rule decided on this gateway, as the agent counted them since it started",
      (r) => r.connections,
    );
    ruleCounter(
      "gatehouse_agent_rule_packets_total",
      "Packets of the connections each rule decided, both directions, as the agent counted them since it started",
      (r) => r.packets,
    );
    ruleCounter(
      "gatehouse_agent_rule_bytes_total",
      "Bytes of the connections each rule decided, both directions, as the agent counted them since it started",
      (r) => r.bytes,
    );
    new Gauge({
      name: "gatehouse_agent_rule_last_hit_timestamp_seconds",
      help: "When the agent last saw each rule's counter move (absent until it has)",
      labelNames: ["rule"],
      registers,
      collect() {
        this.reset();
        for (const r of sources.rules?.() ?? []) {
          if (r.lastHitAt !== null) this.set({ rule: r.ruleId }, Date.parse(r.lastHitAt) / 1000);
        }
      },
    });
    new Gauge({
      name: "gatehouse_agent_virtual_service_connections",
      help: "A virtual service's connections: active (established) and inactive",
      labelNames: ["service", "state"],
      registers,
      collect() {
        this.reset();
        for (const s of sources.virtualServices()) {
          if (s.traffic === undefined) continue;
          this.set({ service: s.name, state: "active" }, s.traffic.active);
          this.set({ service: s.name, state: "inactive" }, s.traffic.inactive);
        }
      },
    });
    this.poolUsageMetrics(sources, registers);
  }

  /** Gauges and kernel counters of pool usage and conntrack (docs/metrics.md). */
  private poolUsageMetrics(sources: AgentMetricSources, registers: Registry[]): void {
    const usage = () => sources.poolUsage?.() ?? null;
    new Gauge({
      name: "gatehouse_agent_pool_address_connections",
      help: "Connections SNATed to a pool address of this gateway, by protocol",
      labelNames: ["pool", "address", "protocol"],
      registers,
      collect() {
        this.reset();
        const u = usage();
        for (const a of u?.report.addresses ?? []) {
          const pool = u?.poolName(a.poolId) ?? a.poolId;
          this.set({ pool, address: a.address, protocol: "tcp" }, a.tcp);
          this.set({ pool, address: a.address, protocol: "udp" }, a.udp);
          this.set({ pool, address: a.address, protocol: "other" }, a.other);
        }
      },
    });
    new Gauge({
      name: "gatehouse_agent_pool_address_port_fill_ratio",
      help: "Share of a pool address's port range in use toward its busiest destination, 0 to 1",
      labelNames: ["pool", "address"],
      registers,
      collect() {
        this.reset();
        const u = usage();
        for (const a of u?.report.addresses ?? []) {
          this.set({ pool: u?.poolName(a.poolId) ?? a.poolId, address: a.address }, addressFillPct(a) / 100);
        }
      },
    });
    new Gauge({
      name: "gatehouse_agent_conntrack_max",
      help: "Size of the conntrack table (nf_conntrack_max)",
      registers,
      collect() {
        this.reset();
        const max = usage()?.report.conntrack?.max;
        if (max !== null && max !== undefined) this.set(max);
      },
    });
    // the kernel keeps these counters; a scrape copies them
    const kernelCounter = (name: string, help: string, key: "insertFailed" | "drop" | "earlyDrop") =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const c = usage()?.report.conntrack;
          if (c === null || c === undefined) return;
          this.reset();
          this.inc(c[key]);
        },
      });
    kernelCounter(
      "gatehouse_agent_conntrack_insert_failed_total",
      "New connections the kernel could not insert into the conntrack table (conntrack -S insert_failed)",
      "insertFailed",
    );
    kernelCounter(
      "gatehouse_agent_conntrack_drop_total",
      "Packets dropped because the conntrack table was full (conntrack -S drop)",
      "drop",
    );
    kernelCounter(
      "gatehouse_agent_conntrack_early_drop_total",
      "Connections evicted early to make room in a full conntrack table (conntrack -S early_drop)",
      "earlyDrop",
    );
  }

  /** An apply finished (the loop's record of it). */
  applied(result: ApplyResult): void {
    this.applies.inc({ outcome: result.ok ? "ok" : "failed" });
    if (Object.keys(result.durationsMs).length > 0) this.applyDuration.observe(applySeconds(result));
  }

  /** A failover event the agent reports to the console. */
  event(e: FailoverEvent): void {
    this.failovers.inc({ isp: e.ispName, kind: e.kind, mode: e.mode });
    if (e.timings !== null && (e.kind === "failover" || e.kind === "failback")) {
      this.switchDuration.observe(seconds(e.timings.switchMs));
    }
  }
}

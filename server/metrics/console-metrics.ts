import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The console's Prometheus metrics, one registry per process (each console replica is scraped on
 * its own). Names and labels are listed in docs/metrics.md; label values come from fixed sets
 * (procedure names of the router, agent endpoints, audit actions written by the code), never from
 * what a client sends.
 */

export interface ConsoleMetrics {
  registry: Registry;
  apiRequests: Counter<"api" | "endpoint" | "status">;
  apiSeconds: Histogram<"api">;
  auditEvents: Counter<"action">;
  applies: Counter<"outcome">;
  failovers: Counter<"action" | "mode">;
}

/** What a scrape reads from elsewhere at the time of the scrape. */
export interface MetricSources {
  /** agents waiting in a long poll for their next spec, in this process */
  longPollsWaiting(): number;
  /** gateways per cluster, online or not (their last report within the offline limit) */
  gateways(): Promise<Array<{ cluster: string; online: number; offline: number }>>;
}

function build(): ConsoleMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_console_" });
  // prom-client reports these gauges with a _total suffix, which Prometheus keeps for counters
  // (`promtool check metrics` refuses them): left out
  for (const gauge of ["handles", "requests", "resources"])
    registry.removeSingleMetric(`gatehouse_console_nodejs_active_${gauge}_total`);
  return {
    registry,
    apiRequests: new Counter({
      name: "gatehouse_api_requests_total",
      help: "Requests answered by the console's APIs, by API (trpc, agent), endpoint and HTTP status",
      labelNames: ["api", "endpoint", "status"],
      registers: [registry],
    }),
    apiSeconds: new Histogram({
      name: "gatehouse_api_request_duration_seconds",
      help: "Time to answer an API request (agent long polls included: they wait by design)",
      labelNames: ["api"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    auditEvents: new Counter({
      name: "gatehouse_audit_events_total",
      help: "Audit events appended, by action",
      labelNames: ["action"],
      registers: [registry],
    }),
    applies: new Counter({
      name: "gatehouse_gateway_applies_total",
      help: "Apply results the gateways reported (each new attempt once), by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    failovers: new Counter({
      name: "gatehouse_failovers_total",
      help: "ISP failovers, failbacks and restores, by action and by who decided (operator or a gateway's automatic failover)",
      labelNames: ["action", "mode"],
      registers: [registry],
    }),
  };
}

const shared = globalThis as unknown as { gatehouseConsoleMetrics?: ConsoleMetrics; gatehouseMetricSources?: boolean };

/** The process's metrics (kept on globalThis so that a reloaded module does not register twice). */
export function consoleMetrics(): ConsoleMetrics {
  shared.gatehouseConsoleMetrics ??= build();
  return shared.gatehouseConsoleMetrics;
}

/** Adds the gauges read at scrape time; once per process. */
export function attachMetricSources(sources: MetricSources): void {
  if (shared.gatehouseMetricSources) return;
  shared.gatehouseMetricSources = true;
  const { registry } = consoleMetrics();
  new Gauge({
    name: "gatehouse_agent_long_polls_waiting",
    help: "Agents waiting in a long poll for their next spec, in this console process",
    registers: [registry],
    collect() {
      this.set(sources.longPollsWaiting());
    },
  });
  new Gauge({
    name: "gatehouse_gateways",
    help: "Gateways per cluster and connection state (online: reported within the offline limit)",
    labelNames: ["cluster", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await sources.gateways()) {
        this.set({ cluster: c.cluster, state: "online" }, c.online);
        this.set({ cluster: c.cluster, state: "offline" }, c.offline);
      }
    },
  });
}

const FAILOVER_ACTIONS: Record<string, string> = {
  "isp.failover": "failover",
  "isp.failback": "failback",
  "isp.restore": "restore",
};

/** Counts one appended audit event, and the applies and failovers it records. */
export function countAuditEvent(action: string, actorType: string, after: unknown): void {
  const m = consoleMetrics();
  m.auditEvents.inc({ action });
  if (action === "gateway.apply") {
    const ok = (after as { ok?: unknown } | null | undefined)?.ok;
    m.applies.inc({ outcome: ok === true ? "ok" : "failed" });
  }
  const failover = FAILOVER_ACTIONS[action];
  if (failover !== undefined)
    m.failovers.inc({ action: failover, mode: actorType === "agent" ? "automatic" : "operator" });
}

import { afterEach, describe, expect, it } from "vitest";
import type { HaStatus } from "../../core/protocol/agent-api";
import type { FailoverEvent } from "../../core/protocol/health-report";
import { parseExposition, promtoolProblems } from "../../testkit/prometheus";
import { type AgentMetricSources, AgentMetrics } from "./agent-metrics";
import { listenForMetrics, type MetricsListener } from "./listener";

const ha: HaStatus = {
  checkedAt: "2026-12-05T10:00:00.000Z",
  groups: [{ name: "cluster", state: "master", since: null, effectivePriority: 150 }],
  keepalived: "running",
  conntrackd: "failed",
  transitions: [],
  error: "",
};

const sources = (over: Partial<AgentMetricSources> = {}): AgentMetricSources => ({
  isps: () => [
    { isp: "telia", state: "up", lossPct: 2.5, rttMs: 12, failedOver: false, connections: 40 },
    { isp: "cogent", state: "down", lossPct: null, rttMs: null, failedOver: true, connections: null },
  ],
  conntrackTotal: () => 41,
  running: () => ({ revision: 7, failoverEpoch: 3 }),
  ha: () => ha,
  virtualServices: () => [
    {
      serviceId: "vs-1",
      name: "web",
      realServers: [
        { address: "100.64.9.10", port: 8080, health: "up", since: null, lastError: "" },
        { address: "100.64.9.11", port: null, health: "down", since: null, lastError: "refused" },
      ],
      traffic: {
        connections: 9,
        packetsIn: 90,
        packetsOut: 80,
        bytesIn: 9000,
        bytesOut: 8000,
        connectionsPerSecond: 1,
        packetsInPerSecond: 10,
        packetsOutPerSecond: 8,
        active: 3,
        inactive: 2,
      },
    },
  ],
  ...over,
});

const event = (kind: FailoverEvent["kind"], switchMs: number): FailoverEvent => ({
  id: `e-${kind}-${switchMs}`,
  kind,
  ispId: "isp-b",
  ispName: "cogent",
  fromIspId: null,
  toIspId: "isp-a",
  mode: "automatic",
  reason: "probes lost",
  at: "2026-12-05T10:00:00.000Z",
  revision: 7,
  failoverEpoch: 3,
  timings: { detectMs: 200, applyMs: 4, flushMs: 2, switchMs, flushed: 1 },
  ok: true,
  error: "",
});

async function samples(m: AgentMetrics) {
  const text = await m.registry.metrics();
  expect(promtoolProblems(text)).toBe("");
  return parseExposition(text);
}

describe("agent metrics", () => {
  it("read links, conntrack, the running spec, VRRP and real servers from the agent's state when scraped", async () => {
    const s = await samples(new AgentMetrics(sources()));
    expect(s.get('gatehouse_agent_isp_up{isp="telia"}')).toBe(1);
    expect(s.get('gatehouse_agent_isp_up{isp="cogent"}')).toBe(0);
    expect(s.get('gatehouse_agent_isp_loss_ratio{isp="telia"}')).toBe(0.025);
    expect(s.get('gatehouse_agent_isp_rtt_seconds{isp="telia"}')).toBe(0.012);
    expect(s.has('gatehouse_agent_isp_rtt_seconds{isp="cogent"}')).toBe(false);
    expect(s.get('gatehouse_agent_isp_failed_over{isp="cogent"}')).toBe(1);
    expect(s.get('gatehouse_agent_isp_connections{isp="telia"}')).toBe(40);
    expect(s.get("gatehouse_agent_conntrack_entries")).toBe(41);
    expect(s.get("gatehouse_agent_running_revision")).toBe(7);
    expect(s.get("gatehouse_agent_running_failover_epoch")).toBe(3);
    expect(s.get('gatehouse_agent_vrrp_state{group="cluster",state="master"}')).toBe(1);
    expect(s.get('gatehouse_agent_vrrp_state{group="cluster",state="backup"}')).toBe(0);
    expect(s.get('gatehouse_agent_ha_process_running{process="keepalived"}')).toBe(1);
    expect(s.get('gatehouse_agent_ha_process_running{process="conntrackd"}')).toBe(0);
    expect(s.get('gatehouse_agent_real_server_up{service="web",server="100.64.9.10:8080"}')).toBe(1);
    expect(s.get('gatehouse_agent_real_server_up{service="web",server="100.64.9.11"}')).toBe(0);
    expect(s.get('gatehouse_agent_virtual_service_connections{service="web",state="active"}')).toBe(3);
    expect(s.has("gatehouse_agent_process_resident_memory_bytes")).toBe(true);
  });

  it("expose each rule's counter and last hit, following the readings between scrapes", async () => {
    let rules = [
      {
        ruleId: "r-busy",
        position: 1,
        connections: 42,
        packets: 900,
        bytes: 640_000,
        lastHitAt: "2026-12-05T10:00:00.000Z",
      },
      { ruleId: "r-dead", position: 2, connections: 0, packets: 0, bytes: 0, lastHitAt: null },
    ];
    const m = new AgentMetrics(sources({ rules: () => rules }));
    let s = await samples(m);
    expect(s.get('gatehouse_agent_rule_connections_total{rule="r-busy",position="1"}')).toBe(42);
    expect(s.get('gatehouse_agent_rule_connections_total{rule="r-dead",position="2"}')).toBe(0);
    expect(s.get('gatehouse_agent_rule_packets_total{rule="r-busy",position="1"}')).toBe(900);
    expect(s.get('gatehouse_agent_rule_bytes_total{rule="r-busy",position="1"}')).toBe(640_000);
    expect(s.get('gatehouse_agent_rule_last_hit_timestamp_seconds{rule="r-busy"}')).toBe(
      Date.parse("2026-12-05T10:00:00.000Z") / 1000,
    );
    expect(s.has('gatehouse_agent_rule_last_hit_timestamp_seconds{rule="r-dead"}')).toBe(false);
    // the busy rule moved; the dead one was deleted
    rules = [
      {
        ruleId: "r-busy",
        position: 1,
        connections: 50,
        packets: 1000,
        bytes: 700_000,
        lastHitAt: "2026-12-05T10:00:05.000Z",
      },
    ];
    s = await samples(m);
    expect(s.get('gatehouse_agent_rule_connections_total{rule="r-busy",position="1"}')).toBe(50);
    expect(s.get('gatehouse_agent_rule_bytes_total{rule="r-busy",position="1"}')).toBe(700_000);
    expect(s.has('gatehouse_agent_rule_connections_total{rule="r-dead",position="2"}')).toBe(false);
  });

  it("follow changes between scrapes and leave out what the agent does not have", async () => {
    let running: { revision: number; failoverEpoch: number } | null = null;
    const m = new AgentMetrics(
      sources({ running: () => running, ha: () => undefined, virtualServices: () => [], conntrackTotal: () => null }),
    );
    let s = await samples(m);
    expect(s.get("gatehouse_agent_running_revision")).toBe(0);
    expect([...s.keys()].some((k) => k.startsWith("gatehouse_agent_vrrp_state{"))).toBe(false);
    expect([...s.keys()].some((k) => k.startsWith("gatehouse_agent_ha_process_running{"))).toBe(false);
    // an unlabelled gauge always has a value: 0 until the first count
    expect(s.get("gatehouse_agent_conntrack_entries")).toBe(0);
    running = { revision: 9, failoverEpoch: 0 };
    s = await samples(m);
    expect(s.get("gatehouse_agent_running_revision")).toBe(9);
  });

  it("give port usage per pool address and conntrack's kernel counters from the last count", async () => {
    let conntrack = { count: 900, max: 1000, insertFailed: 7, drop: 2, earlyDrop: 1 };
    const m = new AgentMetrics(
      sources({
        poolUsage: () => ({
          report: {
            at: "2026-12-05T10:00:00.000Z",
            partial: false,
            addresses: [
              {
                poolId: "p1",
                address: "198.51.100.10",
                ports: 100,
                tcp: 85,
                udp: 3,
                other: 1,
                busiest: { protocol: "tcp", destination: "203.0.113.10", port: 443, connections: 85 },
              },
            ],
            conntrack,
          },
          poolName: (id) => (id === "p1" ? "web-out" : id),
        }),
      }),
    );
    let s = await samples(m);
    const labels = 'pool="web-out",address="198.51.100.10"';
    expect(s.get(`gatehouse_agent_pool_address_connections{${labels},protocol="tcp"}`)).toBe(85);
    expect(s.get(`gatehouse_agent_pool_address_connections{${labels},protocol="udp"}`)).toBe(3);
    expect(s.get(`gatehouse_agent_pool_address_connections{${labels},protocol="other"}`)).toBe(1);
    expect(s.get(`gatehouse_agent_pool_address_port_fill_ratio{${labels}}`)).toBe(0.85);
    expect(s.get("gatehouse_agent_conntrack_max")).toBe(1000);
    expect(s.get("gatehouse_agent_conntrack_insert_failed_total")).toBe(7);
    expect(s.get("gatehouse_agent_conntrack_drop_total")).toBe(2);
    expect(s.get("gatehouse_agent_conntrack_early_drop_total")).toBe(1);
    // the kernel's counters are copied, not added up scrape after scrape
    conntrack = { ...conntrack, insertFailed: 9 };
    s = await samples(m);
    expect(s.get("gatehouse_agent_conntrack_insert_failed_total")).toBe(9);
    // before the first count: no pool address series
    s = await samples(new AgentMetrics(sources({ poolUsage: () => null })));
    expect([...s.keys()].some((k) => k.startsWith("gatehouse_agent_pool_address"))).toBe(false);
  });

  it("count applies with their duration, and failover events with their switch time", async () => {
    const m = new AgentMetrics(sources());
    const at = "2026-12-05T10:00:00.000Z";
    m.applied({ revision: 7, failoverEpoch: 3, ok: true, error: "", at, durationsMs: { check: 20, load: 30 } });
    m.applied({ revision: 8, failoverEpoch: 3, ok: false, error: "nft: syntax", at, durationsMs: {} });
    m.event(event("failover", 4));
    m.event(event("failback", 6));
    m.event(event("alert", 0));
    const s = await samples(m);
    expect(s.get('gatehouse_agent_applies_total{outcome="ok"}')).toBe(1);
    expect(s.get('gatehouse_agent_applies_total{outcome="failed"}')).toBe(1);
    expect(s.get("gatehouse_agent_apply_duration_seconds_count")).toBe(1);
    expect(s.get("gatehouse_agent_apply_duration_seconds_sum")).toBeCloseTo(0.05);
    expect(s.get('gatehouse_agent_failover_events_total{isp="cogent",kind="failover",mode="automatic"}')).toBe(1);
    expect(s.get('gatehouse_agent_failover_events_total{isp="cogent",kind="alert",mode="automatic"}')).toBe(1);
    expect(s.get("gatehouse_agent_failover_switch_seconds_count")).toBe(2);
    expect(s.get("gatehouse_agent_failover_switch_seconds_sum")).toBeCloseTo(0.01);
  });
});

describe("the metrics listener", () => {
  let listener: MetricsListener | undefined;
  afterEach(async () => {
    await listener?.close();
  });

  it("serves GET /metrics on the address given, and nothing else", async () => {
    const m = new AgentMetrics(sources());
    listener = await listenForMetrics(m.registry, "127.0.0.1", 0);
    const base = `http://127.0.0.1:${listener.port}`;
    const ok = await fetch(`${base}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseExposition(await ok.text()).get("gatehouse_agent_running_revision")).toBe(7);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST", body: "x" })).status).toBe(404);
  });

  it("says why when the address cannot be used", async () => {
    const m = new AgentMetrics(sources());
    listener = await listenForMetrics(m.registry, "127.0.0.1", 0);
    await expect(listenForMetrics(m.registry, "127.0.0.1", listener.port)).rejects.toThrow(/EADDRINUSE/);
  });
});

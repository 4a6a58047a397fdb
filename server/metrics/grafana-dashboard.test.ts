import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AgentMetrics } from "../../agent/metrics/agent-metrics";
import { attachMetricSources, consoleMetrics } from "./console-metrics";

/**
 * docs/grafana-dashboard.json is imported as it is: valid dashboard JSON with a Prometheus
 * datasource variable, every query naming metrics the console or the agent really export and
 * docs/metrics.md documents, and every documented metric on some panel.
 */

const dashboard = JSON.parse(readFileSync("docs/grafana-dashboard.json", "utf8")) as {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
  panels: Array<{
    id: number;
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    gridPos: { h: number; w: number; x: number; y: number };
    targets?: Array<{ refId: string; expr: string; datasource: { type: string; uid: string } }>;
  }>;
};
const docs = readFileSync("docs/metrics.md", "utf8");

/** Grafana's reference to the datasource variable (a literal "${datasource}", not a template string) */
const DATASOURCE_REF = ["$", "{datasource}"].join("");
const HISTOGRAM_PARTS = /_(bucket|sum|count)$/;
const metricsIn = (expr: string) => [...expr.matchAll(/\bgatehouse_[a-z0-9_]+/g)].map((m) => m[0]);

async function exported(): Promise<Set<string>> {
  attachMetricSources({ longPollsWaiting: () => 0, gateways: async () => [] });
  const agent = new AgentMetrics({
    isps: () => [],
    conntrackTotal: () => null,
    running: () => null,
    ha: () => undefined,
    virtualServices: () => [],
  });
  const names = new Set<string>();
  for (const registry of [consoleMetrics().registry, agent.registry]) {
    for (const m of await registry.getMetricsAsJSON()) names.add(m.name);
  }
  return names;
}

describe("the Grafana dashboard in docs/", () => {
  it("is a dashboard with a Prometheus datasource variable that every panel and query uses", () => {
    expect(dashboard.title).toBe("Gatehouse");
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = dashboard.templating.list.find((v) => v.type === "datasource");
    expect(ds).toMatchObject({ name: "datasource", query: "prometheus" });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== "row")) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: DATASOURCE_REF });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe(DATASOURCE_REF);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it("queries only metrics that are exported and documented", async () => {
    const names = await exported();
    const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr)));
    expect(queried.length).toBeGreaterThan(20);
    for (const metric of queried) {
      const base = metric.replace(HISTOGRAM_PARTS, "");
      expect(names.has(base) || names.has(metric), `${metric} is not exported`).toBe(true);
      const documented =
        docs.includes(`\`${base}\``) ||
        (base.startsWith("gatehouse_console_") && docs.includes("`gatehouse_console_*`")) ||
        (base.startsWith("gatehouse_agent_") && names.has(base) && !docs.includes(`\`${base}\``) && isProcess(base));
      expect(documented, `${metric} is not in docs/metrics.md`).toBe(true);
    }
  });

  it("charts every metric docs/metrics.md lists", () => {
    const queried = new Set(
      dashboard.panels
        .flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr)))
        .map((m) => m.replace(HISTOGRAM_PARTS, "")),
    );
    const listed = [...docs.matchAll(/`(gatehouse_[a-z0-9_]+)`/g)].map((m) => m[1] ?? "");
    expect(listed.length).toBeGreaterThan(20);
    for (const metric of listed) expect(queried.has(metric), `${metric} has no panel`).toBe(true);
  });
});

/** the agent's process metrics are documented as `gatehouse_agent_*` (process) */
function isProcess(name: string): boolean {
  return /^gatehouse_agent_(process_|nodejs_)/.test(name) && docs.includes("`gatehouse_agent_*` (process)");
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness, TEST_PASSWORD } from "../../testkit/server/api";
import { PROVIDERS } from "../../testkit/server/databases";
import { createDb } from "../db/client";
import { handleStatus } from "./agent-api";
import { handleMetrics } from "./metrics";
import { checkReadiness, handleHealthz, handleReadyz } from "./probes";
import { handleTrpc } from "./trpc-handler";
import { parseExposition, promtoolProblems } from "../../testkit/prometheus";

const TOKEN = "scrape-token-0123456789";

async function scrape(h: ApiHarness, auth?: string): Promise<Map<string, number>> {
  const res = await handleMetrics(
    h.db,
    new Request("http://console.test/api/metrics", { headers: auth ? { authorization: auth } : {} }),
    TOKEN,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  expect(promtoolProblems(text)).toBe("");
  return parseExposition(text);
}

const trpc = (h: ApiHarness, path: string, body: unknown) =>
  handleTrpc(
    new Request(`http://console.test/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    h.db,
  );

describe("/metrics", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("needs the scrape token when one is set, whatever else is sent", async () => {
    for (const auth of [undefined, "Bearer wrong", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await handleMetrics(
        h.db,
        new Request("http://console.test/api/metrics", { headers: auth ? { authorization: auth } : {} }),
        TOKEN,
      );
      expect(res.status, String(auth)).toBe(401);
    }
    const open = await handleMetrics(h.db, new Request("http://console.test/api/metrics"), undefined);
    expect(open.status).toBe(200);
  });

  it("counts API requests by procedure and status, audit events, and the gateways online", async () => {
    const key = (name: string, labels: string) => `${name}{${labels}}`;
    const before = await scrape(h, `Bearer ${TOKEN}`);
    const count = (m: Map<string, number>, k: string) => m.get(k) ?? 0;

    expect((await trpc(h, "auth.login", { json: { username: "admin", password: "wrong password" } })).status).toBe(401);
    expect((await trpc(h, "auth.login", { json: { username: "admin", password: TEST_PASSWORD } })).status).toBe(200);
    expect((await trpc(h, "no.such%2Cprocedure", {})).status).toBe(404);
    const agent = await handleStatus(h.db, new Request("http://console.test/api/agent/v1/status", { method: "POST" }));
    expect(agent.status).toBe(401);
    const cluster = await h.as("admin").cluster.create({ name: "metrics-a", description: "", unmatched: "drop" });
    await h.as("admin").gateway.create({ clusterId: cluster.id, name: "gw-1", address: "" });
    const seen = await h.as("admin").gateway.create({ clusterId: cluster.id, name: "gw-2", address: "" });
    await h.db.gateway.update({ where: { id: seen.id }, data: { lastSeenAt: new Date() } });

    const after = await scrape(h, `Bearer ${TOKEN}`);
    const grew = (k: string) => count(after, k) - count(before, k);
    expect(grew(key("gatehouse_api_requests_total", 'api="trpc",endpoint="auth.login",status="401"'))).toBe(1);
    expect(grew(key("gatehouse_api_requests_total", 'api="trpc",endpoint="auth.login",status="200"'))).toBe(1);
    expect(grew(key("gatehouse_api_requests_total", 'api="trpc",endpoint="unknown",status="404"'))).toBe(2);
    expect(grew(key("gatehouse_api_requests_total", 'api="agent",endpoint="status",status="401"'))).toBe(1);
    expect(grew(key("gatehouse_audit_events_total", 'action="auth.login_failed"'))).toBe(1);
    expect(grew(key("gatehouse_audit_events_total", 'action="gateway.create"'))).toBe(2);
    expect(after.get(key("gatehouse_gateways", 'cluster="metrics-a",state="online"'))).toBe(1);
    expect(after.get(key("gatehouse_gateways", 'cluster="metrics-a",state="offline"'))).toBe(1);
    expect(after.get("gatehouse_agent_long_polls_waiting")).toBe(0);
    expect(after.has("gatehouse_console_process_resident_memory_bytes")).toBe(true);
    expect(grew('gatehouse_api_request_duration_seconds_count{api="trpc"}')).toBe(3);
  });
});

describe.each(PROVIDERS)("probes on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("healthz answers while the process runs; readyz once every migration of this build is applied", async () => {
    expect(await handleHealthz().json()).toEqual({ status: "ok" });
    const ready = await handleReadyz(h.db);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    expect(await checkReadiness(h.db, ["20991231000000_from_a_newer_build"])).toEqual({
      ready: false,
      problems: ["migrations not applied: 20991231000000_from_a_newer_build"],
    });
  });

  it("readyz says when the database does not answer", async () => {
    const gone = createDb(
      provider === "sqlite" ? "file:/nonexistent-dir/gatehouse.db" : "postgresql://x:y@127.0.0.1:1/none",
    );
    const r = await checkReadiness(gone);
    expect(r.ready).toBe(false);
    expect(r.problems[0]).toMatch(/^the database does not answer: /);
    await gone.$disconnect();
  });
});

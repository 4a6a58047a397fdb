import { expect, test } from "@playwright/test";

// what a load balancer and a Prometheus server see of the running console (the production build)
test("healthz, readyz and /metrics answer on the running console", async ({ request }) => {
  const health = await request.get("/api/healthz");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });

  const ready = await request.get("/api/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ status: "ready" });

  await request.get("/api/trpc/auth.me");
  const metrics = await request.get("/metrics");
  expect(metrics.status()).toBe(200);
  expect(metrics.headers()["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  expect(text).toMatch(/^gatehouse_api_requests_total\{api="trpc",endpoint="auth\.me",status="\d+"\} [1-9]\d*$/m);
  expect(text).toMatch(/^# TYPE gatehouse_gateways gauge$/m);
  expect(text).toMatch(/^gatehouse_console_process_resident_memory_bytes \d+/m);
});

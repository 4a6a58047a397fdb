import { expect, type Page, test } from "@playwright/test";
import { AGENT_API_PREFIX } from "../../core/protocol/agent-api";
import type { HealthReport } from "../../core/protocol/health-report";
import { type EnrolledAgent, enrolledAgent } from "../../testkit/console/agent-reports";
import { expectAccessible } from "../../testkit/console/axe";
import { api } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * Port usage as an operator sees it: an agent reports a 100-port pool address filling toward one
 * web server, and the Pools page shows the level (warning, then alert), the forecast and the
 * busiest destination, a banner names the incident, and the Health page shows the conntrack
 * table's fill and the kernel's drop counters.
 */

async function postUsage(page: Page, agent: EnrolledAgent, poolId: string, connections: number): Promise<void> {
  const report: HealthReport = {
    agentVersion: "1.0.0",
    at: new Date().toISOString(),
    samples: [],
    running: null,
    lastLoad: null,
    isps: [],
    conntrackTotal: 900,
    poolUsage: {
      at: new Date().toISOString(),
      partial: false,
      addresses: [
        {
          poolId,
          address: "198.51.100.10",
          ports: 100,
          tcp: connections,
          udp: 0,
          other: 0,
          busiest: { protocol: "tcp", destination: "203.0.113.10", port: 443, connections },
        },
      ],
      conntrack: { count: 900, max: 1000, insertFailed: 7, drop: 2, earlyDrop: 0 },
    },
    events: [],
  };
  const res = await page.request.post(`${AGENT_API_PREFIX}/health`, {
    headers: { authorization: `Bearer ${agent.agentToken}` },
    data: report,
  });
  expect(res.ok(), await res.text()).toBe(true);
}

test("the Pools page shows a pool address's port usage level, its forecast and the incident banner", async ({
  page,
}, testInfo) => {
  test.setTimeout(90_000);
  await signIn(page);
  const name = uniqueName("usage");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  try {
    const isp = await api<{ entity: { id: string } }>(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const pool = await api<{ entity: { id: string } }>(page, "pool.create", {
      clusterId: cluster.id,
      fields: {
        name: "web-out",
        ispId: isp.entity.id,
        addresses: ["198.51.100.10"],
        portRange: { from: 20000, to: 20099 },
      },
    });
    const agent = await enrolledAgent(page, cluster.id, "gw-a");

    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pools" }).click();
    const section = page.getByRole("region", { name: "Port usage" });
    await expect(section.getByTestId("usage-empty")).toBeVisible();
    const row = page.getByRole("row").filter({ hasText: "web-out" }).first();
    await expect(row.getByTestId("pool-usage")).toHaveText("not reported");

    // counts 11 s apart, as an agent counts, so the console has a growth to extend
    await postUsage(page, agent, pool.entity.id, 60);
    await expect(row.getByTestId("pool-usage")).toHaveText("60%", { timeout: 10_000 });
    await page.waitForTimeout(11_000);
    await postUsage(page, agent, pool.entity.id, 85);
    await expect(row.getByTestId("pool-usage")).toHaveText("warning 85%", { timeout: 10_000 });
    const banner = page.getByRole("status", { name: "Port usage incidents" });
    await expect(banner).toContainText(
      'Port usage warning: pool "web-out" address 198.51.100.10 on gateway "gw-a" has 85% of its ports in use toward tcp 203.0.113.10:443',
    );
    await page.screenshot({ path: testInfo.outputPath("pool-usage-warning.png"), fullPage: true });
    await page.waitForTimeout(11_000);
    await postUsage(page, agent, pool.entity.id, 97);
    await expect(row.getByTestId("pool-usage")).toHaveText("alert 97%", { timeout: 10_000 });
    await expect(page.getByRole("alert", { name: "Port usage incidents" })).toContainText("Port usage alert");
    const usage = section.getByTestId("usage-web-out");
    await expect(usage.getByTestId("usage-forecast")).toHaveText(
      /^Forecast: full in (about .+|under a minute) at the current growth\.$/,
    );
    const addresses = usage.getByRole("table", { name: "Port usage of web-out per address" });
    await expect(addresses).toContainText("tcp 203.0.113.10:443 (97)");
    await expect(addresses.getByRole("row").nth(1)).toContainText("gw-a");
    await page.screenshot({ path: testInfo.outputPath("pool-usage-alert.png"), fullPage: true });
    await expectAccessible(page, "the Pools page with port usage", "main");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health" }).click();
    const conntrack = page.getByRole("table", { name: "Conntrack tables" });
    await expect(conntrack.getByTestId("conntrack-gw-a")).toContainText("90%", { timeout: 15_000 });
    await expect(conntrack.getByTestId("conntrack-gw-a")).toContainText("1,000");
    await page.screenshot({ path: testInfo.outputPath("health-conntrack.png"), fullPage: true });

    // the episodes are in the audit log, in words
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByText(/Port usage alert: pool "web-out"/).first()).toBeVisible({ timeout: 10_000 });
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

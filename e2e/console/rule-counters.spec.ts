import { expect, test } from "@playwright/test";
import { axeViolations } from "../../testkit/console/axe";
import { enrolledAgent, postStatus } from "../../testkit/console/agent-reports";
import { api, publishDraft, seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * Rule counters as an operator meets them: an enrolled agent reports what its rules' counters
 * moved (through the agent API, with its real token); the rules table shows the hits and "no
 * match since" for the rule that matched nothing, the rule form the counts per gateway, the
 * simulator the matched rule's counters; a later report shows up without reloading the page.
 */
test("hits per rule from the agents' reports: rules table, rule form and simulator", async ({ page }, testInfo) => {
  await signIn(page);
  const name = uniqueName("counters");
  const seeded = await seedCluster(page, name, (ids) => [
    {
      source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: "busy rule",
    },
    { source: { kind: "cidrs", cidrs: ["100.64.9.0/24"] }, action: { type: "drop" }, comment: "dead rule" },
  ]);
  const [busy, dead] = seeded.rules as [string, string];
  const gateways: string[] = [];
  try {
    await publishDraft(page, seeded.clusterId, "first");
    const edge1 = await enrolledAgent(page, seeded.clusterId, "edge-1");
    const edge2 = await enrolledAgent(page, seeded.clusterId, "edge-2");
    gateways.push(edge1.id, edge2.id);
    const hit = new Date(Date.now() - 90_000).toISOString();
    await postStatus(page, edge1, {
      revision: 1,
      ruleCounters: [{ ruleId: busy, connections: 30, packets: 2000, bytes: 1_572_864, lastHitAt: hit }],
    });
    await postStatus(page, edge2, {
      revision: 1,
      ruleCounters: [{ ruleId: busy, connections: 12, packets: 500, bytes: 524_288, lastHitAt: hit }],
    });

    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).click();
    const busyRow = page.locator(`tr[data-rule-id="${busy}"]`);
    const deadRow = page.locator(`tr[data-rule-id="${dead}"]`);
    await expect(busyRow.locator("td.hits")).toContainText("42");
    await expect(busyRow.locator("td.hits")).toContainText(/last 1 min ago/);
    await expect(deadRow.locator("td.hits")).toContainText("0");
    await expect(deadRow.locator("td.hits")).toContainText(/no match since (\d\d:\d\d|\d{1,2} [A-Z][a-z]{2})/);
    await expect(deadRow.locator("td.hits")).toHaveAttribute(
      "title",
      /^0 new connections, no match since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
    );
    await page.screenshot({ path: testInfo.outputPath("rules-hits.png") });
    expect(await axeViolations(page, "table.rules")).toEqual([]);

    // the rule form: the total and each gateway's share
    await busyRow.getByRole("button", { name: /^Edit rule #/ }).click();
    const counters = page.getByRole("region", { name: "Counters" });
    await expect(counters.getByTestId("rule-hits")).toHaveText("42");
    const perGateway = counters.getByRole("table", { name: "Counters per gateway" });
    await expect(perGateway.getByRole("row").filter({ hasText: "edge-1" })).toContainText("30");
    await expect(perGateway.getByRole("row").filter({ hasText: "edge-2" })).toContainText("12");
    // the traffic of those connections, both ways: 1.5 MiB + 0.5 MiB
    await expect(counters.getByTestId("rule-traffic")).toContainText("2.0 MiB in 2,500 packets");
    await expect(perGateway.getByRole("row").filter({ hasText: "edge-1" })).toContainText("1.5 MiB");
    await page.screenshot({ path: testInfo.outputPath("rule-form-counters.png") });
    await page.keyboard.press("Escape");

    // a later report: the table follows without a reload
    await postStatus(page, edge1, {
      revision: 1,
      ruleCounters: [{ ruleId: busy, connections: 8, packets: 100, bytes: 0, lastHitAt: new Date().toISOString() }],
    });
    await expect(busyRow.locator("td.hits")).toContainText("50", { timeout: 25_000 });

    // the simulator: the matched rule's counters next to the decision
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Simulate" }).click();
    const packet = page.getByRole("form", { name: "Packet" });
    await packet.getByLabel("Source address").fill("100.64.1.10");
    await packet.getByLabel("Destination address").fill("198.51.100.200");
    await packet.getByLabel("Routing").selectOption({ label: "through ISP telia" });
    await packet.getByLabel("Destination address").press("Enter");
    const result = page.getByRole("article", { name: "If routing picks telia" });
    await expect(result.getByTestId("matched-rule-hits")).toContainText("50 new connections");
    await expect(result.getByTestId("matched-rule-hits")).toContainText("2.6 k packets, 2.0 MiB");
    await page.screenshot({ path: testInfo.outputPath("simulator-counters.png") });
  } finally {
    for (const id of gateways) await api(page, "gateway.delete", { id }).catch(() => {});
    await api(page, "cluster.delete", { id: seeded.clusterId, confirmName: name }).catch(() => {});
  }
});

import { expect, test } from "@playwright/test";
import { reportingGateway } from "../../testkit/console/agent-reports";
import { api } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("an operator ip rule before Gatehouse's, as the agent reports it, is an alert on the gateways list and the gateway's page", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("iprules");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  const gateways: string[] = [];
  try {
    // the agent found an operator rule without a priority (it landed at 7100) and one at 1000
    const edge1 = await reportingGateway(page, cluster.id, "edge-1", {
      ipRules: {
        checkedAt: new Date().toISOString(),
        conflicts: [
          { priority: 1000, rule: "from 100.64.7.0/24 lookup 300", before: 7101 },
          { priority: 7100, rule: "from 100.64.1.0/24 lookup 200", before: 7101 },
        ],
        error: "",
      },
    });
    gateways.push(edge1, await reportingGateway(page, cluster.id, "edge-2"));

    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
    const row1 = page.getByRole("row").filter({ hasText: "edge-1" });
    const alert = row1.getByRole("alert");
    await expect(alert).toContainText(
      "2 ip rules of the operator come before Gatehouse's and can override its redirects and failovers",
    );
    await expect(alert).toContainText("1000: from 100.64.7.0/24 lookup 300 (before 7101)");
    // a gateway without conflicts shows no alert
    await expect(page.getByRole("row").filter({ hasText: "edge-2" }).getByRole("alert")).toHaveCount(0);

    await row1.getByRole("link", { name: "edge-1" }).click();
    await expect(page.getByRole("heading", { name: "edge-1", level: 1 })).toBeVisible();
    const onPage = page.getByRole("alert").filter({ hasText: "ip rules of the operator" });
    await expect(onPage).toContainText("7100: from 100.64.1.0/24 lookup 200 (before 7101)");
    await page.screenshot({ path: testInfo.outputPath("ip-rule-conflicts.png") });
  } finally {
    // a cluster with gateways cannot be deleted
    for (const id of gateways) await api(page, "gateway.delete", { id }).catch(() => {});
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

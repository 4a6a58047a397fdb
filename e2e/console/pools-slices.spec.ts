import { expect, type Page, test } from "@playwright/test";
import { api, publishDraft } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/** Adds a gateway; with `linkAddress`, its agent enrolls and reports that address on eth1. */
async function addGateway(page: Page, clusterId: string, name: string, linkAddress: string | null) {
  const gw = await api<{ id: string; enrollToken: string }>(page, "gateway.create", { clusterId, name });
  if (linkAddress === null) return;
  const enroll = await page.request.post("/api/agent/v1/enroll", {
    headers: { authorization: `Bearer ${gw.enrollToken}` },
    data: {
      agentVersion: "1.0.0",
      facts: {
        hostname: name,
        kernel: "6.1",
        nftVersion: "1.0.6",
        interfaces: [{ name: "eth1", state: "UP", mac: "", mtu: 1500, addresses: [`${linkAddress}/24`] }],
      },
    },
  });
  expect(enroll.ok()).toBe(true);
}

test("the Pools page shows which gateway owns which addresses and what the upstream must route", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("slices");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  try {
    const isp = await api<{ entity: { id: string } }>(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" },
    });
    await api(page, "pool.create", {
      clusterId: cluster.id,
      fields: { name: "telia-main", ispId: isp.entity.id, addresses: ["203.0.113.16/28"] },
    });
    await api(page, "pool.create", {
      clusterId: cluster.id,
      fields: { name: "telia-spare", ispId: isp.entity.id, addresses: ["203.0.113.40"] },
    });
    await addGateway(page, cluster.id, "gw-a", "198.51.100.2");

    // from the cluster list to the Pools page, as a person goes
    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("link", { name: "Pools" }).click();
    await expect(page.getByRole("heading", { name: "Pools" })).toBeVisible();
    const section = page.getByRole("region", { name: "Gateway slices" });
    await expect(section.getByTestId("slices-off")).toContainText("one gateway: it SNATs to every address");

    // a second gateway and a publish: two slices of telia-main, and the one-address pool cannot be split
    await addGateway(page, cluster.id, "gw-b", null);
    await publishDraft(page, cluster.id, "two gateways");
    await page.reload();
    const owners = section.getByRole("table", { name: "Addresses by gateway" });
    await expect(owners.getByTestId("slice-row")).toHaveCount(2);
    const rowA = owners.getByTestId("slice-row").filter({ hasText: "gw-a" });
    const rowB = owners.getByTestId("slice-row").filter({ hasText: "gw-b" });
    await expect(rowA.getByRole("cell").nth(2)).toHaveText("8");
    await expect(rowB.getByRole("cell").nth(2)).toHaveText("8");
    await expect(owners.getByTestId("slice-problem")).toContainText(
      'pool "telia-spare" has 1 address for 2 active gateways',
    );
    await expect(page.getByRole("row").filter({ hasText: "telia-spare" }).first()).toBeVisible();

    const routes = section.getByRole("table", { name: "Upstream routes" });
    await expect(routes.getByTestId("upstream-row")).toHaveCount(2);
    await expect(routes.getByTestId("upstream-row").filter({ hasText: "gw-a" })).toContainText("via 198.51.100.2");
    await expect(routes.getByTestId("upstream-row").filter({ hasText: "gw-b" })).toContainText(
      "via the gateway's address on eth1 (not reported yet)",
    );
    // the routes of both gateways together are exactly the pool: 16 addresses in /28 .. /32 blocks
    const blocks = (await routes.locator("td.mono div").allTextContents()).map((t) => t.split(" ")[0] ?? "");
    const size = blocks.reduce((n, b) => n + 2 ** (32 - Number(b.split("/")[1])), 0);
    expect(size).toBe(16);
    await page.screenshot({ path: testInfo.outputPath("pool-slices.png"), fullPage: true });
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

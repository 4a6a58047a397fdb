import { expect, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { api, expectNoDialog } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("a DHCP ISP with an interface-address pool: created in the forms, a shared interface refused, shown in the tables", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("uplinks");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "dynamic uplinks" });
  try {
    await page.goto(`/clusters/${cluster.id}/isps`);
    await expect(page.getByText("No ISPs yet.")).toBeVisible();

    await page.getByRole("button", { name: "New ISP" }).click();
    const ispForm = page.getByRole("form", { name: "New ISP" });
    await page.keyboard.type("cable");
    await ispForm.getByLabel("Egress interface").fill("wan0");
    await ispForm.getByRole("combobox", { name: /^Addressing/ }).selectOption("dhcp");
    // the next hop is only what the gateway uses until its DHCP client learns one
    await expect(ispForm.getByText(/used until the gateway learns one/)).toBeVisible();
    await ispForm.getByLabel(/^Next hop/).fill("100.66.0.1");
    await expectAccessible(page, "ISP form with addressing", '[role="dialog"]');
    await page.screenshot({ path: testInfo.outputPath("isp-dhcp-form.png") });
    await ispForm.getByLabel(/^Next hop/).press("Enter");
    await expectNoDialog(page);
    const row = page.getByRole("row").filter({ hasText: "cable" });
    await expect(row).toContainText("wan0");
    await expect(row.getByTestId("isp-addressing")).toHaveText("learned by DHCP");

    // a second ISP on the DHCP uplink's interface is refused, in words, on the field
    await page.getByRole("button", { name: "New ISP" }).click();
    await page.keyboard.type("cable-2");
    await ispForm.getByLabel("Egress interface").fill("wan0");
    await ispForm.getByLabel(/^Next hop/).fill("100.66.0.2");
    await ispForm.getByLabel(/^Next hop/).press("Enter");
    await expect(page.locator("#isp-interface-error")).toContainText(
      /nterface wan0 is ISP "cable"'s DHCP uplink, which needs the interface to itself/,
    );
    await ispForm.getByRole("button", { name: "Cancel" }).click();
    await expectNoDialog(page);

    await page.getByRole("link", { name: "Pools" }).click();
    await page.getByRole("button", { name: "New pool" }).click();
    const poolForm = page.getByRole("form", { name: "New pool" });
    await page.keyboard.type("cable-address");
    await poolForm.getByRole("combobox", { name: /^ISP/ }).selectOption({ label: "cable" });
    await poolForm.getByRole("combobox", { name: /^Mode/ }).selectOption("interface");
    // no addresses to type: the pool is whatever address the interface has
    await expect(poolForm.getByLabel(/^Addresses/)).toHaveCount(0);
    await expect(poolForm.getByTestId("pool-interface-note")).toContainText("DHCP and PPPoE changes included");
    await page.screenshot({ path: testInfo.outputPath("pool-interface-form.png") });
    await poolForm.getByRole("button", { name: /^(Create|Save) pool/ }).click();
    await expectNoDialog(page);
    const poolRow = page.getByRole("row").filter({ hasText: "cable-address" });
    await expect(poolRow.getByTestId("pool-mode")).toHaveText("interface address (MASQUERADE)");
    await expect(poolRow).toContainText("the interface's current address");
    await page.screenshot({ path: testInfo.outputPath("pools-interface.png") });
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

import { expect, test } from "@playwright/test";
import { api, expectNoDialog } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("an on-link pool: the form offers the mode, refuses addresses off the ISP's link, and the table shows it", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("onlink");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  try {
    await api(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1", localAddress: "198.51.100.2/25" },
    });
    await page.goto(`/clusters/${cluster.id}/pools`);
    await page.getByRole("button", { name: "New pool" }).click();
    const form = page.getByRole("form", { name: "New pool" });
    await page.keyboard.type("telia-link");
    await form.getByRole("combobox", { name: /^ISP/ }).selectOption({ label: "telia" });
    await form.getByRole("combobox", { name: /^Mode/ }).selectOption("on-link");
    await form.getByLabel(/^Addresses/).fill("198.51.100.200");
    await form.getByLabel(/^Addresses/).press("Enter");
    await expect(page.locator("#pool-addresses-error")).toHaveText(/is not inside 198\.51\.100\.0\/25/);
    await form.getByLabel(/^Addresses/).fill("198.51.100.2");
    await form.getByLabel(/^Addresses/).press("Enter");
    await expect(page.locator("#pool-addresses-error")).toHaveText(/gateway's own address/);
    await form.getByLabel(/^Addresses/).fill("198.51.100.10-198.51.100.11");
    await form.getByLabel(/^Addresses/).press("Enter");
    await expectNoDialog(page);
    const row = page.getByRole("row").filter({ hasText: "telia-link" });
    await expect(row.getByTestId("pool-mode")).toHaveText("on-link (ARP)");
    await page.screenshot({ path: testInfo.outputPath("pools-onlink.png") });
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

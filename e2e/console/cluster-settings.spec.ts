import { expect, test } from "@playwright/test";
import { api, publishDraft } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("the LAN guard's interfaces: checked as the publish checks them, saved to the draft, listed as a change", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("guard");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  try {
    await api(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" },
    });
    // published once, so the settings change shows against a revision
    await publishDraft(page, cluster.id, "uplink");
    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "LAN guard" })).toBeVisible();

    const form = page.getByRole("form", { name: "LAN guard interfaces" });
    const lan = form.getByLabel(/^LAN interfaces/);
    const internal = form.getByLabel(/^Internal interfaces/);
    await expect(lan).toHaveValue("");
    // an ISP's uplink cannot be a LAN interface; a name Linux refuses is named with its position
    await lan.fill("lan0, eth1");
    await internal.fill("dmz0 this-name-is-too-long");
    await form.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.locator("#guard-internal-error")).toHaveText(
      "Internal interface 2 must be at most 15 characters (the Linux limit)",
    );
    await internal.fill("dmz0");
    await form.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.locator("#guard-lan-error")).toHaveText(
      'Interface eth1 is ISP "telia"\'s uplink, so it cannot be LAN',
    );
    await expect(page.getByRole("status").filter({ hasText: "Saved to the draft" })).toHaveCount(0);

    await lan.fill("lan0 lan1");
    await form.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Saved to the draft" })).toBeVisible();
    await expect(lan).toHaveValue("lan0, lan1");
    await expect(internal).toHaveValue("dmz0");
    await page.screenshot({ path: testInfo.outputPath("cluster-settings.png") });

    // the change waits in the draft like any other
    await page.reload();
    await expect(form.getByLabel(/^LAN interfaces/)).toHaveValue("lan0, lan1");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Changes" }).click();
    const settings = page.getByRole("region", { name: "Settings changes" });
    await expect(settings).toContainText("lan0");
    await expect(settings).toContainText("dmz0");
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

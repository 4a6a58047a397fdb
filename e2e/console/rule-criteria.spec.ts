import { expect, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * A rule by destination port, made in the rules form from sign-in on: the form names bad ports
 * and ports without tcp/udp, the table shows the criteria, and the simulator takes the new rule
 * for a port it lists and says why it missed for one it does not.
 */
test("a destination-port rule: form errors, the table column and the simulator", async ({ page }, testInfo) => {
  await signIn(page);
  const name = uniqueName("ports");
  await seedCluster(page, name, (ids) => [
    {
      source: { kind: "zone", zoneId: ids.zones.office },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: "office via telia",
    },
  ]);
  // the cluster was made through the API: the list shows it once the page loads again
  await page.reload();
  await page.getByRole("link", { name, exact: true }).click();
  await page.getByRole("link", { name: "Rules" }).click();
  await expect(page.getByRole("row").filter({ hasText: "office via telia" })).toBeVisible();

  await page.keyboard.press("n");
  const form = page.getByRole("form", { name: "New rule" });
  await form.getByLabel(/^Source networks/).fill("100.64.1.0/24");
  await form.getByLabel(/^Destination ports/).fill("443, 9000-8000");
  await form.getByLabel("SNAT pool").selectOption({ label: "cogent-a" });
  await form.getByLabel(/^Redirect via/).selectOption({ index: 2 });
  await form.getByLabel("Comment").fill("web via cogent");
  await form.getByLabel("Comment").press("Enter");
  // checked in the browser before anything is sent
  await expect(page.locator("#rule-ports-error")).toContainText(
    "range 9000-8000: the first port must not be above the last",
  );
  await form.getByLabel(/^Destination ports/).fill("443, 8000-8100");
  await form.getByLabel("Comment").press("Enter");
  // ports without tcp or udp: the console's check, on the same field
  await expect(page.locator("#rule-ports-error")).toHaveText("Destination ports need protocol tcp or udp");
  await page.screenshot({ path: testInfo.outputPath("rule-ports-error.png") });
  await form.getByLabel("Protocol").selectOption("tcp");
  await form.getByLabel("Comment").press("Enter");
  await expect(page.getByRole("dialog")).toHaveCount(0);

  const row = page.getByRole("row").filter({ hasText: "web via cogent" });
  await expect(row).toContainText("port 443, 8000-8100");
  await expect(row).toContainText("tcp");
  // same source networks as the office zone? no: a /24 beats the zone's /16 and comes first
  await expect(page.getByRole("row").nth(1)).toContainText("web via cogent");
  await page.screenshot({ path: testInfo.outputPath("rules-with-ports.png") });
  await expectAccessible(page, "rules table with a port rule", "main");

  await page.getByRole("link", { name: "Simulate" }).click();
  const packet = page.getByRole("form", { name: "Packet" });
  const simulate = async (port: string) => {
    await packet.getByLabel("Source address").fill("100.64.1.10");
    await packet.getByLabel("Destination address").fill("198.51.100.200");
    await packet.getByLabel("Protocol").selectOption("tcp");
    await packet.getByLabel(/^Destination port/).fill(port);
    await packet.getByLabel("Routing").selectOption({ label: "through ISP telia" });
    await packet.getByLabel("Destination address").press("Enter");
  };
  const result = page.getByRole("article", { name: "If routing picks telia" });

  await simulate("8080");
  await expect(result.getByRole("heading")).toContainText("SNAT");
  await expect(result).toContainText(/rule #1 "web via cogent"/);
  await expect(result).toContainText("203.0.113.1 on eth2 (ISP cogent)");
  await page.screenshot({ path: testInfo.outputPath("simulate-port-rule.png") });

  await simulate("22");
  await expect(result).toContainText(/rule #2 "office via telia"/);
  await expect(
    result.getByRole("table", { name: "Rules that did not match via telia" }).getByRole("row").filter({
      hasText: "web via cogent",
    }),
  ).toContainText("destination port 22 is not 443 or 8000-8100");
  // the packet form with its new fields (the result cards have a heading-order finding of their own)
  await expectAccessible(page, "simulator form with interface and mark", 'form[aria-label="Packet"]');
});

import { expect, test } from "@playwright/test";
import { api, expectNoDialog, listOf } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("create an ISP, a pool, a zone and a rule in the browser, with the keyboard", async ({ page }, testInfo) => {
  await signIn(page);
  const name = uniqueName("edit");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "editing flow" });
  const base = `/clusters/${cluster.id}`;

  // ISP: the form opens with the name focused and Enter saves
  await page.goto(`${base}/isps`);
  await expect(page.getByText("No ISPs yet.")).toBeVisible();
  await page.getByRole("button", { name: "New ISP" }).click();
  const ispForm = page.getByRole("form", { name: "New ISP" });
  await expect(ispForm.getByLabel("Name")).toBeFocused();
  await page.keyboard.type("telia");
  await ispForm.getByLabel("Egress interface").fill("eth1");
  await ispForm.getByLabel(/^Next hop/).fill("198.51.100.1");
  await ispForm.getByLabel("Probe interval").fill("200");
  await ispForm.getByRole("combobox", { name: "Failover", exact: true }).selectOption("automatic");
  await page.screenshot({ path: testInfo.outputPath("isp-form.png") });
  await ispForm.getByLabel(/^Next hop/).press("Enter");
  await expectNoDialog(page);
  const ispRow = page.getByRole("row").filter({ hasText: "telia" });
  await expect(ispRow).toContainText("eth1");
  await expect(ispRow).toContainText("automatic");
  // automatic failover without a backup is allowed, and warned about next to the ISP
  await expect(ispRow.locator(".badge.warn").filter({ hasText: "no backup" })).toBeVisible();

  // a second ISP, then telia gets it as its backup
  await page.getByRole("button", { name: "New ISP" }).click();
  await page.keyboard.type("cogent");
  await ispForm.getByLabel(/^Egress interface/).fill("eth2");
  await ispForm.getByLabel(/^Next hop/).fill("203.0.113.1");
  await page.keyboard.press("Enter");
  await expectNoDialog(page);
  await page.getByRole("button", { name: "Edit ISP telia" }).click();
  await page
    .getByRole("form", { name: "Edit ISP" })
    .getByRole("combobox", { name: /^Backup ISPs/ })
    .selectOption({ label: "cogent" });
  await expect(page.getByRole("list", { name: "Backup ISPs in order" })).toContainText("cogent");
  await page.getByRole("button", { name: "Save ISP" }).click();
  await expectNoDialog(page);
  await expect(page.getByRole("row").filter({ hasText: "telia" })).toContainText("cogent");
  await page.screenshot({ path: testInfo.outputPath("isps.png") });

  // pool
  await page.getByRole("link", { name: "Pools" }).click();
  await page.getByRole("button", { name: "New pool" }).click();
  const poolForm = page.getByRole("form", { name: "New pool" });
  await page.keyboard.type("telia-a");
  await poolForm.getByRole("combobox", { name: /^ISP/ }).selectOption({ label: "telia" });
  // the short form operators write ("a.b.c.10-13") is stored and shown in full
  await poolForm.getByLabel(/^Addresses/).fill("198.51.100.10-13");
  await poolForm.getByLabel(/^Addresses/).press("Enter");
  await expectNoDialog(page);
  await expect(page.getByRole("row").filter({ hasText: "telia-a" })).toContainText("198.51.100.10-198.51.100.13");

  // a pool whose addresses another pool has: only the whole policy knows, so the server's message shows
  await page.getByRole("button", { name: "New pool" }).click();
  await page.keyboard.type("telia-b");
  await poolForm.getByRole("combobox", { name: /^ISP/ }).selectOption({ label: "telia" });
  await poolForm.getByLabel(/^Addresses/).fill("198.51.100.12/30");
  await page.keyboard.press("Enter");
  await expect(page.locator("#pool-addresses-error")).toHaveText(
    /address 198\.51\.100\.12 is already in pool "telia-a"/i,
  );
  await expect(poolForm.getByRole("alert")).toHaveText("Not saved: fix the fields marked below.");
  await page.screenshot({ path: testInfo.outputPath("pool-overlap.png") });
  await page.keyboard.press("Escape");
  await expectNoDialog(page);
  expect(await listOf(page, "pool", cluster.id)).toHaveLength(1);

  // zone: an invalid CIDR is refused in the form with the schema's message, and nothing is saved
  await page.getByRole("link", { name: "Zones" }).click();
  await page.getByRole("button", { name: "New zone" }).click();
  const zoneForm = page.getByRole("form", { name: "New zone" });
  await page.keyboard.type("office");
  await zoneForm.getByLabel(/^Source networks/).fill("100.64.0.0/16, 100.65.0.1/16");
  await page.keyboard.press("Enter");
  const networksError = page.locator("#zone-networks-error");
  await expect(networksError).toHaveText('Network 2: "100.65.0.1/16" has host bits set; did you mean 100.65.0.0/16?');
  await expect(zoneForm.getByLabel(/^Source networks/)).toBeFocused();
  await expect(zoneForm.getByLabel(/^Source networks/)).toHaveAttribute("aria-invalid", "true");
  await page.screenshot({ path: testInfo.outputPath("zone-invalid-cidr.png") });
  await page.keyboard.press("Escape");
  await expectNoDialog(page);
  await expect(page.getByText("No zones yet.")).toBeVisible();
  expect(await listOf(page, "zone", cluster.id)).toHaveLength(0);

  await page.getByRole("button", { name: "New zone" }).click();
  await page.keyboard.type("office");
  await zoneForm.getByLabel(/^Source networks/).fill("100.64.0.0/16");
  await page.keyboard.press("Enter");
  await expectNoDialog(page);
  await expect(page.getByRole("row").filter({ hasText: "office" })).toContainText("65,536");

  // rule: from the zone, via telia, SNAT to telia-a
  await page.getByRole("link", { name: "Rules" }).click();
  await expect(page.getByText("No rules yet.")).toBeVisible();
  await page.keyboard.press("n");
  const ruleForm = page.getByRole("form", { name: "New rule" });
  await expect(ruleForm.getByLabel("Source", { exact: true })).toBeFocused();
  await ruleForm.getByLabel("Source", { exact: true }).selectOption("zone");
  await ruleForm.getByLabel("Source zone").selectOption({ label: "office (1 network)" });
  await ruleForm.getByLabel("Egress ISP").selectOption({ index: 1 });
  // Enter on an incomplete rule names what is missing
  await ruleForm.getByLabel("Comment").fill("office via telia");
  await ruleForm.getByLabel("Comment").press("Enter");
  await expect(page.locator("#rule-pool-error")).toHaveText("SNAT pool is required");
  await ruleForm.getByLabel("SNAT pool").selectOption({ label: "telia-a" });
  await ruleForm.getByLabel("Algorithm").selectOption("sdh");
  await page.screenshot({ path: testInfo.outputPath("rule-form.png") });
  await ruleForm.getByLabel("Comment").press("Enter");
  await expectNoDialog(page);
  const rule = page.getByRole("row").filter({ hasText: "office via telia" });
  await expect(rule).toContainText("zone office");
  await expect(rule).toContainText("telia-a");
  await expect(rule).toContainText("sdh");
  await expect(rule.getByRole("checkbox", { name: "Disable rule #1" })).toBeChecked();
  // telia fails over to cogent, which has no default pool: the rule says so on its row and in the list
  await expect(rule.locator(".badge.warn")).toHaveText(/no failover pool/);
  await page.getByText(/Rule warnings: 1 thing/).click();
  await expect(page.getByRole("group", { name: "Rule warnings" })).toContainText(
    /rule #1 "office via telia": has no pool for failover "telia" → "cogent"/,
  );
  await expect(page.locator("#rules-count")).toHaveText("1 rule");

  // the draft banner shows on every page of the cluster and leads to the changes
  const banner = page.getByRole("status", { name: "Unpublished changes" });
  await expect(banner).toContainText(/The draft has 5 unpublished changes \(5 added\)/);
  await page.screenshot({ path: testInfo.outputPath("rules.png") });
  await banner.getByRole("link", { name: "Review and publish" }).click();
  await expect(page.getByRole("heading", { name: "Changes" })).toBeVisible();
  await expect(page.getByRole("article", { name: 'added rule #1 "office via telia"' })).toContainText(
    'SNAT to pool "telia-a" (source + destination hash)',
  );
});

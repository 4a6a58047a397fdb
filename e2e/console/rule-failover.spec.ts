import { expect, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { api, expectNoDialog, publishDraft } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * A rule's failover behaviour, set in the browser: the rules table shows where each rule's
 * traffic goes on failover and which pool it gets; the form says in one sentence where that pool
 * comes from and refuses a pool of the wrong ISP; the failover preview on the Health page shows
 * the rule going to its own backup and the rule that never moves.
 */

test("set a rule's failover behaviour, see its effective failover pool and the failover preview", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("rulefail");
  const clusterId = (await api<{ id: string }>(page, "cluster.create", { name, description: "per-rule failover" })).id;
  const create = async (kind: string, fields: unknown) =>
    (await api<{ entity: { id: string } }>(page, `${kind}.create`, { clusterId, fields })).entity.id;
  const telia = await create("isp", { name: "telia", interface: "eth1", nextHop: "198.51.100.1" });
  const cogent = await create("isp", { name: "cogent", interface: "eth2", nextHop: "203.0.113.1" });
  const lte = await create("isp", { name: "lte", interface: "wwan0", nextHop: "100.127.255.1" });
  const teliaA = await create("pool", { name: "telia-a", ispId: telia, addresses: ["198.51.100.10-198.51.100.13"] });
  const cogentA = await create("pool", { name: "cogent-a", ispId: cogent, addresses: ["203.0.113.16/30"] });
  const lteA = await create("pool", { name: "lte-a", ispId: lte, addresses: ["100.127.255.2"] });
  const setIsp = (id: string, fields: Record<string, unknown>) =>
    api(page, "isp.update", { clusterId, id, version: 1, fields });
  await setIsp(telia, {
    name: "telia",
    interface: "eth1",
    nextHop: "198.51.100.1",
    backupIspIds: [cogent],
    defaultPoolId: teliaA,
  });
  await setIsp(cogent, { name: "cogent", interface: "eth2", nextHop: "203.0.113.1", defaultPoolId: cogentA });
  await setIsp(lte, { name: "lte", interface: "wwan0", nextHop: "100.127.255.1", defaultPoolId: lteA });
  for (const [net, comment] of [
    ["100.64.1.0/24", "office via telia"],
    ["100.64.2.0/24", "payments via telia"],
    ["100.64.3.0/24", "guests via telia"],
  ]) {
    await create("rule", {
      source: { kind: "cidrs", cidrs: [net] },
      egressIspId: telia,
      action: { type: "snat", poolId: teliaA, algorithm: "sh" },
      comment,
    });
  }

  // from the clusters list to the rules, by clicking
  await page.reload();
  await page.getByRole("table", { name: "Clusters" }).getByRole("link", { name }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).click();
  const table = page.getByRole("table", { name: "Rules" });
  await expect(table.getByRole("columnheader", { name: "On failover" })).toBeVisible();
  const row = (comment: string) => table.getByRole("row").filter({ hasText: comment });
  await expect(row("office via telia")).toContainText("cogent / cogent-a (from telia's backup)");

  // office: its own backup, lte; a pool of cogent is refused with the field named
  await row("office via telia")
    .getByRole("button", { name: /^Edit rule #/ })
    .click();
  const form = page.getByRole("form", { name: /^Edit rule/ });
  const effect = form.getByTestId("rule-failover-effect");
  await expect(effect).toHaveText(
    "When telia fails over, this rule's traffic goes to cogent, telia's backup, with pool cogent-a, cogent's default pool (the rule sets no pool of its own).",
  );
  await form.getByLabel("When its ISP fails over").selectOption({ label: "own backup ISP and pool" });
  await expect(effect).toHaveText("Choose the rule's own backup ISP.");
  await form.getByLabel("Own backup ISP").selectOption({ label: "lte (next hop 100.127.255.1)" });
  await form.getByLabel("Pool on the own backup").selectOption({ label: "cogent-a" });
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page.locator("#rule-fallback-error")).toContainText(
    'Pool "cogent-a" belongs to ISP "cogent", not to the rule\'s own backup "lte"',
  );
  await page.screenshot({ path: testInfo.outputPath("own-backup-wrong-pool.png") });
  await form.getByLabel("Pool on the own backup").selectOption({ label: "none" });
  await expect(effect).toHaveText(
    "When telia fails over, this rule's traffic goes to lte, the rule's own backup, with pool lte-a, lte's default pool (the rule sets no pool of its own).",
  );
  await expectAccessible(page, "rule form with failover fields", '[role="dialog"]');
  await page.getByRole("button", { name: "Save rule" }).click();
  await expectNoDialog(page);
  await expect(row("office via telia")).toContainText("lte / lte-a (the rule's own backup, lte's default pool)");

  // payments never move
  await row("payments via telia")
    .getByRole("button", { name: /^Edit rule #/ })
    .click();
  await form.getByLabel("When its ISP fails over").selectOption({ label: "never move (stays or drops with its ISP)" });
  await expect(form.getByLabel("Fallback pool")).toHaveCount(0);
  await expect(effect).toContainText("stays on telia with pool telia-a and is lost while telia is down");
  await page.getByRole("button", { name: "Save rule" }).click();
  await expectNoDialog(page);
  await expect(row("payments via telia")).toContainText("stays on telia / telia-a (never moves)");
  await expect(row("guests via telia")).toContainText("cogent / cogent-a (from telia's backup)");
  await page.screenshot({ path: testInfo.outputPath("rules-on-failover.png"), fullPage: true });
  await expectAccessible(page, "rules table", 'table[aria-label="Rules"]');

  // the failover preview of the published policy says the same
  await publishDraft(page, clusterId, "per-rule failover");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health" }).click();
  await page.getByRole("region", { name: "ISP telia" }).getByRole("button", { name: "Fail over telia…" }).click();
  const dialog = page.getByRole("dialog", { name: "Fail over telia" });
  const impact = dialog.getByRole("region", { name: "Impact" });
  await expect(impact).toContainText("Traffic moves to cogent");
  await expect(impact).toContainText("2 rules change where their connections go");
  await expect(impact).toContainText("1 rule never moves and stays on telia");
  const affected = impact.getByRole("table", { name: "Rules affected" });
  await expect(affected.getByRole("row").filter({ hasText: "office via telia" })).toContainText(
    "lte · lte-a (the rule's own backup)",
  );
  await expect(affected.getByRole("row").filter({ hasText: "guests via telia" })).toContainText("cogent · cogent-a");
  await expect(impact.getByRole("table", { name: "Rules that never move" })).toContainText("payments via telia");
  await expect(impact.getByRole("table", { name: "Rules that never move" })).toContainText("telia · telia-a");
  await page.screenshot({ path: testInfo.outputPath("failover-preview.png") });
  await expectAccessible(page, "failover preview", '[role="dialog"]');
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expectNoDialog(page);
});

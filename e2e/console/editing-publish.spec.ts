import { expect, test } from "@playwright/test";
import { api, seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("review the draft's changes, discard one, publish, and find the revision and its audit event", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const seeded = await seedCluster(page, uniqueName("pub"), (ids) => [
    {
      source: { kind: "zone", zoneId: ids.zones.office },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: "office via telia",
    },
  ]);
  await api(page, "zone.create", {
    clusterId: seeded.clusterId,
    fields: { name: "temp", networks: ["100.70.0.0/16"] },
  });

  await page.goto(`/clusters/${seeded.clusterId}/rules`);
  await page
    .getByRole("status", { name: "Unpublished changes" })
    .getByRole("link", { name: "Review and publish" })
    .click();
  await expect(page.getByRole("heading", { name: "Changes" })).toBeVisible();
  await expect(page.getByText("7 changes")).toBeVisible();
  const temp = page.getByRole("article", { name: 'added zone "temp"' });
  await expect(temp).toContainText("100.70.0.0/16");

  // a pool the draft's rule uses cannot be discarded alone, and the message says why
  await page.getByRole("button", { name: 'Discard the change to pool "telia-a"' }).click();
  await expect(page.getByRole("article", { name: 'added pool "telia-a"' }).getByRole("alert")).toContainText(
    /Cannot discard adding pool "telia-a": other draft changes depend on it \(rule #\d+ "office via telia" translates to its addresses\)/,
  );
  await page.getByRole("button", { name: 'Discard the change to zone "temp"' }).click();
  await expect(page.getByRole("status").filter({ hasText: 'Discarded adding zone "temp".' })).toBeVisible();
  await expect(temp).toHaveCount(0);
  await expect(page.getByText("6 changes")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("changes.png") });

  // publishing needs a message
  const publish = page.getByRole("form", { name: "Publish" });
  await publish.getByRole("button", { name: "Publish as revision 1" }).click();
  await expect(page.locator("#publish-message-error")).toHaveText("Message is required: say what changed and why");
  const message = `first egress policy ${Date.now()}`;
  await publish.getByLabel("Message").fill(message);
  await publish.getByLabel("Message").press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Published revision 1." })).toBeVisible();
  await expect(page.getByText("No unpublished changes")).toBeVisible();
  const revisions = page.getByRole("table", { name: "Revisions" });
  await expect(revisions.getByRole("row").filter({ hasText: message })).toContainText("admin");
  await page.screenshot({ path: testInfo.outputPath("published.png") });

  // the banner is gone from the cluster's pages
  await page.getByRole("link", { name: "Rules" }).click();
  await expect(page.locator("#rules-count")).toHaveText("1 rule");
  await expect(page.getByRole("status", { name: "Unpublished changes" })).toHaveCount(0);

  // and the audit log has the publish with its message
  await page.getByRole("link", { name: "Audit log" }).click();
  // the rules page has an "Action" filter too: wait until the audit log replaced it
  await expect(page).toHaveURL(/\/audit/);
  await expect(page.getByRole("table", { name: "Audit events" })).toBeVisible();
  await page.getByLabel("Action").fill("cluster.publish");
  const event = page.getByRole("table", { name: "Audit events" }).getByRole("row").filter({ hasText: message });
  await expect(event).toContainText("Published revision 1");
  await expect(event).toContainText("admin");
  await page.screenshot({ path: testInfo.outputPath("audit-publish.png") });
});

import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { parseCsv, unguardFormula } from "../../server/services/audit/csv";
import { reportingGateway } from "../../testkit/console/agent-reports";
import { api, publishDraft } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * Who changed what, when, what it did, and undoing it: the policy is edited and published
 * through the API (as the editing pages would), everything about its history is driven in the
 * browser.
 */

interface Entity<T> {
  entity: T & { id: string };
  version: number;
}

test("edit, publish, find the change and its diff in the history, revert it, and see both", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const clusterName = uniqueName("hist");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name: clusterName });
  const clusterId = cluster.id;
  const isp = await api<Entity<{ name: string }>>(page, "isp.create", {
    clusterId,
    fields: { name: "isp-a", interface: "eth1", nextHop: "198.51.100.1" },
  });
  const pool = await api<Entity<{ name: string }>>(page, "pool.create", {
    clusterId,
    fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
  });
  const rule = await api<Entity<Record<string, unknown>>>(page, "rule.create", {
    clusterId,
    fields: {
      source: { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
      egressIspId: isp.entity.id,
      action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
      comment: "office",
    },
  });
  expect((await publishDraft(page, clusterId, "first policy")).number).toBe(1);
  await reportingGateway(page, clusterId, "edge-1", { revision: 1 });

  // the edit under review: the office rule now hashes by destination too
  await api(page, "rule.update", {
    clusterId,
    id: rule.entity.id,
    version: rule.version,
    fields: { ...rule.entity, action: { type: "snat", poolId: pool.entity.id, algorithm: "sdh" } },
  });
  expect((await publishDraft(page, clusterId, "hash by destination")).number).toBe(2);

  // the cluster's history shows who did what, newest first
  await page.goto(`/clusters/${clusterId}`);
  await page.getByRole("link", { name: "History", exact: true }).click();
  await expect(page.getByRole("heading", { name: "History" })).toBeVisible();
  const events = page.getByRole("table", { name: "Audit events" });
  const publishRow = events.getByRole("row").filter({ hasText: "Published revision 2: “hash by destination”" });
  await expect(publishRow).toBeVisible();
  await expect(publishRow).toContainText("admin");
  const editRow = events.getByRole("row").filter({ hasText: /Changed rule.*office/ });
  await expect(editRow).toContainText("sh → sdh");
  await expect(editRow).toContainText("127.0.0.1");
  await page.screenshot({ path: testInfo.outputPath("history.png"), fullPage: true });

  // the event: before and after, who from where, and the revision it went out in
  await editRow.getByRole("link", { name: /Event \d+/ }).click();
  await expect(page.getByRole("heading", { name: /Event #\d+: rule\.update/ })).toBeVisible();
  const changes = page.getByRole("table", { name: "Changes" });
  const algorithm = changes.getByRole("row").filter({ hasText: "action.algorithm" });
  await expect(algorithm).toContainText("sh");
  await expect(algorithm).toContainText("sdh");
  await expect(algorithm).toContainText("changed");
  await expect(changes.getByRole("row")).toHaveCount(2); // header + the one changed field
  await page.getByRole("button", { name: /unchanged fields too/ }).click();
  await expect(changes.getByRole("row", { name: /^comment office office/ })).toBeVisible();
  await expect(page.getByText("127.0.0.1")).toBeVisible();
  await expect(page.getByText(/HeadlessChrome|Chrome/)).toBeVisible();
  await expect(page.getByText("hash matches its contents")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("event.png"), fullPage: true });

  // the revision, its rollout, and what it does to the gateway's nftables
  await page.getByRole("link", { name: "revision 2" }).click();
  await expect(page.getByRole("heading", { name: "Revisions" })).toBeVisible();
  const rev2 = page.getByRole("row", { name: "Revision 2" });
  const rev1 = page.getByRole("row", { name: "Revision 1" });
  await expect(rev2).toContainText("hash by destination");
  await expect(rev2).toContainText("edge-1: pending");
  await expect(rev1).toContainText("edge-1: applied");
  const policy = page.getByRole("region", { name: "Policy changes" });
  await expect(policy).toContainText("1 change");
  await expect(policy).toContainText("office");
  await expect(policy.getByRole("row").filter({ hasText: "sdh" })).toBeVisible();
  const nft = page.getByRole("region", { name: "Ruleset changes" });
  await expect(nft.getByText(/^\+.*jhash ip saddr \. ip daddr/).first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("revisions.png"), fullPage: true });

  // one-click revert, with a message, audited
  await rev1.getByRole("button", { name: "Revert to this" }).click();
  const dialog = page.getByRole("dialog", { name: "Revert to revision 1" });
  await expect(dialog).toContainText("publishes a copy of revision 1 as revision 3");
  const confirm = dialog.getByRole("button", { name: "Revert to revision 1" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Message").fill("sdh broke sticky sessions");
  await confirm.click();
  await expect(
    page.getByRole("status").filter({ hasText: "Published revision 3, a copy of revision 1" }),
  ).toBeVisible();
  const rev3 = page.getByRole("row", { name: "Revision 3" });
  await expect(rev3).toContainText("a copy of revision 1");
  await expect(rev3).toContainText("edge-1: pending");
  await expect(page.getByRole("region", { name: "Policy changes" })).toContainText("sh");

  // both the publish and the revert are in the history
  await page.getByRole("link", { name: "See it in the history" }).click();
  await expect(page.getByLabel("Action")).toHaveValue("cluster.");
  const rows = page.getByRole("table", { name: "Audit events" }).getByRole("row");
  await expect(
    rows.filter({ hasText: "Reverted to revision 1, published as revision 3: “sdh broke sticky sessions”" }),
  ).toBeVisible();
  await expect(rows.filter({ hasText: "Published revision 2: “hash by destination”" })).toBeVisible();
  await expect(rows.filter({ hasText: "rule.update" })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("reverted.png"), fullPage: true });

  // the same range downloaded: CSV reads back, JSON Lines has one event per line
  const csvDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: "CSV" }).click();
  const csvPath = await (await csvDownload).path();
  const csv = parseCsv(readFileSync(csvPath, "utf8"));
  const header = csv[0] ?? [];
  const col = (name: string) => header.indexOf(name);
  const exported = csv.slice(1).map((r) => r.map(unguardFormula));
  expect(exported.map((r) => r[col("action")])).toEqual([
    "cluster.create",
    "cluster.publish",
    "cluster.publish",
    "cluster.revert",
  ]);
  expect(exported.every((r) => r[col("clusterName")] === clusterName)).toBe(true);
  expect(JSON.parse(exported[3]?.[col("after")] ?? "{}")).toMatchObject({
    revertedFrom: 1,
    message: "sdh broke sticky sessions",
  });

  const jsonlDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: "JSON Lines" }).click();
  const lines = readFileSync(await (await jsonlDownload).path(), "utf8")
    .trimEnd()
    .split("\n");
  const parsed = lines.map((l) => JSON.parse(l) as { action: string; seq: number; hash: string });
  expect(parsed.map((e) => e.action)).toEqual([
    "cluster.create",
    "cluster.publish",
    "cluster.publish",
    "cluster.revert",
  ]);
  expect(parsed.map((e) => e.seq)).toEqual(exported.map((r) => Number(r[col("seq")])));
});

test("hostile filter input finds nothing and breaks nothing", async ({ page }) => {
  await signIn(page);
  const cluster = await api<{ id: string }>(page, "cluster.create", { name: uniqueName("hostile") });
  await page.goto(`/clusters/${cluster.id}/history`);
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table.getByRole("row").filter({ hasText: "Created cluster" })).toBeVisible();

  // ("_" would match: the browser's user agent, which is searched too, says x86_64)
  for (const hostile of ["%", "' OR '1'='1", '"; DROP TABLE "AuditEvent"; --', "\\", "<script>alert(1)</script>"]) {
    await page.getByLabel("Search").fill(hostile);
    await expect(page.getByRole("status").filter({ hasText: /No (events match|matches)/ })).toBeVisible();
  }
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Actor", { exact: true }).fill("' OR 1=1 --");
  await expect(page.getByRole("status").filter({ hasText: "No events match" })).toBeVisible();
  await page.getByLabel("Actor", { exact: true }).fill("x".repeat(80));
  await expect(page.getByRole("alert").filter({ hasText: "actor must be at most 64 characters" })).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(table.getByRole("row").filter({ hasText: "Created cluster" })).toBeVisible();

  // a hand-made address with junk parameters still shows a page
  await page.goto(`/audit?from=not-a-date&actorType=root&action=%25`);
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /Invalid input/ })).toBeVisible();
});

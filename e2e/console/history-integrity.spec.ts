import { join } from "node:path";
import { expect, test } from "@playwright/test";
import Database from "better-sqlite3";
import { signIn, uniqueName } from "../../testkit/console/fixtures";
import { E2E_DB_FILE } from "../../playwright.config";

/**
 * The hash chain as operators see it: a row altered behind the console's back is named by the
 * verification, with a link to it; retention is an admin setting that is itself in the log.
 */

/** The console under test keeps its SQLite database here (playwright.config.ts). */
const DB_PATH = join(process.cwd(), E2E_DB_FILE);

test("verification names an event altered in the database and links to it", async ({ page }, testInfo) => {
  await signIn(page);
  const name = uniqueName("tamper");
  await page.getByRole("button", { name: "New cluster" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create cluster" }).click();
  await expect(page.getByRole("link", { name })).toBeVisible();

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByText(/Intact: \d+ events checked/)).toBeVisible();

  const db = new Database(DB_PATH, { timeout: 10_000 });
  const row = db
    .prepare(
      `SELECT "seq", "after" FROM "AuditEvent" WHERE "action" = 'cluster.create' AND "after" LIKE ? ORDER BY "seq" DESC LIMIT 1`,
    )
    .get(`%${name}%`) as { seq: number; after: string };
  try {
    // someone with database access renames the cluster in its creation event
    db.prepare(`UPDATE "AuditEvent" SET "after" = ? WHERE "seq" = ?`).run(row.after.replace(name, "innocent"), row.seq);

    await page.getByRole("button", { name: "Verify integrity" }).click();
    const verdict = page.getByRole("status").filter({ hasText: `Altered at event #${row.seq}` });
    await expect(verdict).toContainText("changed after it was written");
    await page.screenshot({ path: testInfo.outputPath("altered.png") });
    await verdict.getByRole("link", { name: `event #${row.seq}` }).click();
    await expect(page.getByRole("heading", { name: `Event #${row.seq}: cluster.create` })).toBeVisible();
    await expect(page.getByText("altered: its hash does not match its contents")).toBeVisible();
    await expect(page.getByRole("table", { name: "Changes" })).toContainText("innocent");
  } finally {
    db.prepare(`UPDATE "AuditEvent" SET "after" = ? WHERE "seq" = ?`).run(row.after, row.seq);
    db.close();
  }
  await page.reload();
  await expect(page.getByText("hash matches its contents")).toBeVisible();
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByText(/Intact: \d+ events checked/)).toBeVisible();
});

test("an unreadable row and a second altered row are both named, and the event page shows the unreadable one", async ({
  page,
}) => {
  await signIn(page);
  const names = [uniqueName("unreadable"), uniqueName("altered")];
  for (const name of names) {
    await page.goto("/");
    await page.getByRole("button", { name: "New cluster" }).click();
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create cluster" }).click();
    await expect(page.getByRole("link", { name })).toBeVisible();
  }
  const db = new Database(DB_PATH, { timeout: 10_000 });
  const rowOf = (name: string) =>
    db
      .prepare(
        `SELECT "seq", "at", "after" FROM "AuditEvent" WHERE "action" = 'cluster.create' AND "after" LIKE ? ORDER BY "seq" DESC LIMIT 1`,
      )
      .get(`%${name}%`) as { seq: number; at: unknown; after: string };
  const [first, second] = [rowOf(names[0] ?? ""), rowOf(names[1] ?? "")];
  try {
    db.prepare(`UPDATE "AuditEvent" SET "at" = 'garbage' WHERE "seq" = ?`).run(first.seq);
    db.prepare(`UPDATE "AuditEvent" SET "after" = ? WHERE "seq" = ?`).run(
      second.after.replace(names[1] ?? "", "innocent"),
      second.seq,
    );
    await page.goto("/audit");
    await page.getByRole("button", { name: "Verify integrity" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Altered at event #${first.seq}` })).toContainText(
      "not a valid timestamp",
    );
    await page.getByText(/Every event that does not check out/).click();
    const list = page.getByRole("list", { name: "Events that do not check out" });
    await expect(list).toContainText(`event #${first.seq}`);
    await expect(list).toContainText(`event #${second.seq}`);
    await page.goto(`/audit/${first.seq}`);
    await expect(page.getByRole("heading", { name: `Event #${first.seq}: cluster.create` })).toBeVisible();
    await expect(page.getByText("unreadable time")).toBeVisible();
    await expect(page.getByText(/unreadable: cannot be read: its stored time is not a valid timestamp/)).toBeVisible();
  } finally {
    db.prepare(`UPDATE "AuditEvent" SET "at" = ? WHERE "seq" = ?`).run(first.at, first.seq);
    db.prepare(`UPDATE "AuditEvent" SET "after" = ? WHERE "seq" = ?`).run(second.after, second.seq);
    db.close();
  }
  await page.goto("/audit");
  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByText(/Intact: \d+ events checked/)).toBeVisible();
});

test("retention is an admin setting, and changing it is in the log", async ({ page }) => {
  await signIn(page);
  await page.goto("/audit");
  const retention = page.getByRole("region", { name: "Retention" });
  await expect(retention).toContainText("Every event is kept.");
  try {
    await retention.getByLabel("Keep every event").uncheck();
    await retention.getByLabel("Keep days").fill("3650");
    await retention.getByRole("button", { name: "Save retention" }).click();
    await expect(retention).toContainText("Events older than 3,650 days are pruned every hour.");
    await retention.getByRole("button", { name: "Prune now" }).click();
    await expect(retention.getByRole("status")).toContainText("Nothing old enough to prune");

    await page.getByLabel("Action").fill("audit.retention");
    const row = page
      .getByRole("table", { name: "Audit events" })
      .getByRole("row")
      .filter({ hasText: "keep 3650 days" });
    await expect(row).toBeVisible();
    await expect(row).toContainText("admin");
  } finally {
    await retention.getByLabel("Keep every event").check();
    await retention.getByRole("button", { name: "Save retention" }).click();
    await expect(retention).toContainText("Every event is kept.");
  }
});

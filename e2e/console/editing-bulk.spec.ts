import { expect, test } from "@playwright/test";
import { seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("filter the rules, bulk-disable with a preview of every change, move and delete", async ({ page }, testInfo) => {
  await signIn(page);
  const seeded = await seedCluster(page, uniqueName("bulk"), (ids) =>
    Array.from({ length: 12 }, (_, i) => ({
      source: { kind: "cidrs", cidrs: [`100.64.${i}.0/24`] },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: `r${i}`,
    })),
  );
  await page.goto(`/clusters/${seeded.clusterId}/rules`);
  const count = page.locator("#rules-count");
  await expect(count).toHaveText("12 rules");
  const row = (position: number) => page.locator(`tr[aria-rowindex="${position + 1}"]`);
  await expect(row(1)).toContainText("100.64.0.0/24");

  // server-side search, from the keyboard
  await page.keyboard.press("/");
  await expect(page.getByLabel(/^Search/)).toBeFocused();
  await page.keyboard.type("r1");
  await expect(count).toHaveText("3 of 12 rules match");
  await expect(page.getByRole("row").filter({ hasText: "r10" })).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(count).toHaveText("12 rules");

  // arrow keys move between rows, keeping the column
  await page.getByRole("button", { name: "Edit rule #2", exact: true }).focus();
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("button", { name: "Edit rule #3", exact: true })).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("ArrowUp");
  await expect(page.getByRole("button", { name: "Edit rule #1", exact: true })).toBeFocused();

  // select three rules; the bulk bar offers the operations
  for (const p of [2, 3, 4]) await page.getByRole("checkbox", { name: `Select rule #${p}` }).check();
  const bar = page.getByRole("region", { name: "Bulk actions" });
  await expect(bar).toContainText("3 selected");
  await bar.getByRole("button", { name: "Disable" }).click();

  const dialog = page.getByRole("dialog", { name: "Disable 3 selected rules" });
  await expect(dialog.getByRole("status")).toContainText("3 rules will change");
  const summary = dialog.getByRole("table", { name: "Summary of changes" });
  await expect(summary.getByRole("row").nth(1)).toHaveText(/enabled\s*yes\s*no\s*3/);
  const perRule = dialog.getByRole("table", { name: "Changes rule by rule" });
  await expect(perRule.getByRole("row")).toHaveCount(4);
  await expect(perRule.getByRole("row").nth(1)).toContainText(/rule #2 "r1"\s*enabled: yes\s*→\s*no/);
  await page.screenshot({ path: testInfo.outputPath("bulk-preview.png") });
  // nothing changed yet (the table behind the modal dialog is hidden from the accessibility tree meanwhile)
  await expect(page.getByRole("checkbox", { name: "Disable rule #2", includeHidden: true })).toBeChecked();
  await dialog.getByRole("button", { name: "Disable 3 rules" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "Disabled 3 rules in the draft." })).toBeVisible();
  for (const p of [2, 3, 4]) {
    await expect(page.getByRole("checkbox", { name: `Enable rule #${p}` })).not.toBeChecked();
  }
  await expect(page.getByRole("checkbox", { name: "Disable rule #5" })).toBeChecked();
  await page.getByLabel("State").selectOption("off");
  await expect(count).toHaveText("3 of 12 rules match");
  await page.screenshot({ path: testInfo.outputPath("bulk-disabled.png") });
  // the same page in the dark theme the system asks for
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: testInfo.outputPath("bulk-disabled-dark.png") });
  await page.emulateMedia({ colorScheme: "light" });
  await page.getByRole("button", { name: "Clear filters" }).click();

  // moving position 6 up pins the rules above it: the preview lists each priority it sets
  await expect(row(6)).toContainText("r5");
  await page.getByRole("button", { name: "Move rule #6 up" }).click();
  const move = page.getByRole("dialog", { name: "Move the rule to #5" });
  await expect(move.getByRole("status")).toContainText("6 rules will change");
  await move.getByRole("button", { name: /^Move \(changes 6 priorities\)/ }).click();
  await expect(move).toHaveCount(0);
  await expect(row(5)).toContainText("r5");
  await expect(row(6)).toContainText("r4");
  await expect(row(5)).toContainText("p50");
  // the next move into a gap changes only that rule, without asking
  await page.getByRole("button", { name: "Move rule #6 up" }).click();
  await expect(row(5)).toContainText("r4");
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // delete the last rule through the bulk preview
  await page.getByRole("checkbox", { name: "Select rule #12" }).check();
  await bar.getByRole("button", { name: "Delete" }).click();
  const del = page.getByRole("dialog", { name: "Delete 1 selected rule" });
  await expect(del.getByRole("table", { name: "Changes rule by rule" })).toContainText("deleted");
  await del.getByRole("button", { name: "Delete 1 rule" }).click();
  await expect(count).toHaveText("11 rules");
});

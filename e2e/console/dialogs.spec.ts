import { expect, type Locator, type Page, test } from "@playwright/test";
import { api } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

async function focusIsInside(dialog: Locator) {
  return dialog.evaluate((d) => d.contains(document.activeElement));
}

async function tabAround(page: Page, dialog: Locator, key: "Tab" | "Shift+Tab") {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press(key);
    expect(await focusIsInside(dialog)).toBe(true);
  }
}

test("a dialog is named by its title, takes focus, keeps it, closes on Escape and gives focus back", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const cluster = await api<{ id: string }>(page, "cluster.create", { name: uniqueName("dialog"), description: "" });
  await page.goto(`/clusters/${cluster.id}/zones`);
  await expect(page.getByText("No zones yet.")).toBeVisible();

  const opener = page.getByRole("button", { name: "New zone" });
  await opener.click();
  const dialog = page.getByRole("dialog", { name: "New zone" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await tabAround(page, dialog, "Tab");
  await tabAround(page, dialog, "Shift+Tab");
  await page.screenshot({ path: testInfo.outputPath("zone-dialog.png") });
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();

  // opened from the user menu: focus goes back to the menu's button
  const menu = page.getByRole("button", { name: /admin/ });
  await menu.click();
  await page.screenshot({ path: testInfo.outputPath("user-menu.png") });
  await page.getByRole("menuitem", { name: "Change password" }).click();
  const password = page.getByRole("dialog", { name: "Change password" });
  await expect(password.getByLabel("Current password")).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath("change-password.png") });
  await tabAround(page, password, "Tab");
  await password.getByRole("button", { name: "Cancel" }).click();
  await expect(password).toHaveCount(0);
  await expect(menu).toBeFocused();
});

import { expect, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("a wrong password is refused with a message and no session", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /Wrong user name or password/ })).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
});

test("sign in, create a cluster, find its creation in the audit log", async ({ page }, testInfo) => {
  await signIn(page);
  const name = uniqueName("edge");

  await page.getByRole("button", { name: "New cluster" }).click();
  // an invalid name is refused at the form with the API's own message, and nothing is created
  await page.getByLabel("Name").fill("bad/name");
  await page.getByRole("button", { name: "Create cluster" }).click();
  await expect(page.getByText(/Name may contain only letters/)).toBeVisible();

  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Description").fill("Frankfurt egress pair");
  await page.keyboard.press("Enter");
  const link = page.getByRole("link", { name });
  await expect(link).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("clusters.png") });

  await link.click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
  // an empty cluster says what to do first, and the step's link leads there
  const guide = page.getByRole("region", { name: "Setting up this cluster" });
  await expect(guide.getByRole("heading")).toHaveText("Next step: Add the ISPs");
  await expect(guide.getByRole("listitem")).toHaveCount(5);
  await expectAccessible(page, "first steps", 'section[aria-label="Setting up this cluster"]');
  await page.screenshot({ path: testInfo.outputPath("first-steps.png") });
  await guide.getByRole("link", { name: "Add the ISPs" }).click();
  await expect(page.getByText("No ISPs yet.")).toBeVisible();

  // the first ISP with its addresses in one form: they become its pool and its default pool
  await page.getByRole("button", { name: "New ISP" }).click();
  const dialog = page.getByRole("form", { name: "New ISP" });
  await dialog.getByLabel("Name", { exact: true }).fill("telia");
  await dialog.getByLabel(/^Egress interface/).fill("eth1");
  await dialog.getByLabel(/^Next hop/).fill("198.51.100.1");
  await dialog.getByLabel(/^Pool addresses/).fill("198.51.100.71-73\n198.51.100.300");
  await expect(dialog.getByLabel(/^Pool \(/)).toHaveAttribute("placeholder", "telia-pool");
  await dialog.getByRole("button", { name: "Create ISP" }).click();
  await expect(dialog.locator("#isp-pool-addresses-error")).toContainText("198.51.100.300");
  await dialog.getByLabel(/^Pool addresses/).fill("198.51.100.71-73");
  await page.screenshot({ path: testInfo.outputPath("first-isp-with-pool.png") });
  await dialog.getByRole("button", { name: "Create ISP" }).click();
  await expect(dialog).toHaveCount(0);
  const ispRow = page.getByRole("row").filter({ hasText: "telia" });
  await expect(ispRow).toContainText("telia-pool");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pools" }).click();
  await expect(page.getByRole("row").filter({ hasText: "telia-pool" })).toContainText("198.51.100.71-198.51.100.73");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(guide.getByRole("heading")).toHaveText("Next step: Add rules");

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByLabel("Action").fill("cluster.create");
  const row = page.getByRole("row").filter({ hasText: name }).filter({ hasText: "cluster.create" });
  await expect(row).toBeVisible();
  await expect(row).toContainText("admin");
  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByText(/Intact: \d+ events checked/)).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("audit.png") });

  await page.getByRole("button", { name: /admin/ }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
});

test("an admin adds a viewer, who can read but not create clusters or manage users", async ({ page }) => {
  await signIn(page);
  const username = uniqueName("viewer");
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("Password must be at least 12 characters")).toBeVisible();
  await page.getByLabel("Password").fill("viewer-password-123");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("row").filter({ hasText: username })).toBeVisible();

  await page.getByRole("button", { name: /admin/ }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await signIn(page, { username, password: "viewer-password-123" });
  await expect(page.getByRole("button", { name: "New cluster" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
});

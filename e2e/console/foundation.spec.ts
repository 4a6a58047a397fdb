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

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByLabel("Action").fill("cluster.create");
  const row = page.getByRole("row").filter({ hasText: name });
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

import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";

async function fillAndSubmit(page: import("@playwright/test").Page) {
  await page.getByLabel("User name").fill(E2E_ADMIN.username);
  await page.getByLabel("Password").fill(E2E_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a newcomer opens the console, is sent to sign in, signs in once and stays on the console", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await fillAndSubmit(page);
  await expect(page.getByRole("heading", { name: "Clusters" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  // the console must not bounce back to the sign-in page a moment later
  await page.waitForTimeout(1_500);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Clusters" })).toBeVisible();
});

test("a deep link survives the sign-in", async ({ page }) => {
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/login\?next=%2Faudit$/);
  await fillAndSubmit(page);
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("button", { name: "Verify integrity" })).toBeVisible();
});

for (const next of [
  "/\\evil.example",
  "/%5Cevil.example",
  "%2F%5Cevil.example",
  "/%09/evil.example",
  "/%0A/evil.example",
  "//evil.example",
  "https%3A%2F%2Fevil.example",
]) {
  test(`after signing in with next=${next} the browser stays on the console`, async ({ page, baseURL }) => {
    // a request to evil.example would mean the redirect left: refuse it and record it
    const escaped: string[] = [];
    await page.route(
      (url) => url.hostname.endsWith("evil.example"),
      (route) => {
        escaped.push(route.request().url());
        return route.abort();
      },
    );
    await page.goto(`/login?next=${next}`);
    await fillAndSubmit(page);
    await expect(page.getByRole("heading", { name: "Clusters" })).toBeVisible();
    expect(new URL(page.url()).origin).toBe(new URL(baseURL ?? "").origin);
    expect(escaped).toEqual([]);
  });
}

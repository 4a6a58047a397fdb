import { expect, type Page } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";

/**
 * Signs in the way a person does: opens the console's home, is sent to the sign-in page, signs in once and
 * lands on the console (not on the sign-in page again).
 */
export async function signIn(page: Page, user = E2E_ADMIN) {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await page.getByLabel("User name").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Clusters" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
}

/** A name no other run or test uses, so specs never collide on unique names. */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;

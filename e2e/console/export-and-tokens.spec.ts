import { readFileSync } from "node:fs";
import { expect, request, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { seedPublishedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

// A published revision taken out as files an operator's old tools read, and a token a script uses.

test("export a revision as Gatehouse YAML and as iptables-save, shown, listed and downloaded", async ({ page }) => {
  await signIn(page);
  const name = uniqueName("export");
  const _seeded = await seedPublishedCluster(page, name);

  await page.goto("/");
  await page.getByRole("link", { name }).click();
  await page.getByRole("link", { name: "Revisions" }).click();
  await page.getByRole("row", { name: "Revision 1" }).getByRole("button", { name: "Export" }).click();
  const dialog = page.getByRole("dialog", { name: "Export revision 1" });
  const text = dialog.getByRole("textbox");
  await expect(text).toHaveValue(/name: telia-a/);
  await expectAccessible(page, "export dialog", '[role="dialog"]');
  await expect(dialog.getByText(`${name}-r1.yaml`)).toBeVisible();

  await dialog.getByLabel("Format").selectOption("iptables");
  await expect(text).toHaveValue(/-j SNAT --to-source 198\.51\.100\.10-198\.51\.100\.13/);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    dialog.getByRole("button", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${name}-r1.iptables-save`);
  expect(readFileSync(await download.path(), "utf8")).toBe(await text.inputValue());
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
});

test("an API token works for a script until it is revoked", async ({ page, baseURL }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Users" }).click();
  const tokens = page.getByRole("region", { name: "API tokens" });
  const tokenName = uniqueName("script");
  const form = tokens.getByRole("form", { name: "New token" });
  await form.getByLabel("Name").fill(tokenName);
  await form.getByLabel("Role").selectOption("viewer");
  await form.getByRole("button", { name: "Create token" }).click();
  const shown = await tokens.getByRole("status").locator("code").innerText();
  expect(shown).toMatch(/^ghp_/);
  await expectAccessible(page, "API tokens", 'section[aria-label="API tokens"]');

  const script = await request.newContext({ baseURL });
  const me = () =>
    script.get(`/api/trpc/cluster.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`, {
      headers: { authorization: `Bearer ${shown}` },
    });
  expect((await me()).status()).toBe(200);
  const row = tokens.getByRole("row").filter({ hasText: tokenName });
  await expect(row).toContainText("viewer");
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row).toContainText("revoked");
  expect((await me()).status()).toBe(401);
  await script.dispose();
});

import { expect, type Locator, type Page, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { expectNoDialog, seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/** The comments of the rules as the table lists them, top to bottom. */
async function listed(page: Page): Promise<string[]> {
  const rows = page.getByRole("table", { name: "Rules" }).locator("tbody tr[data-rule-id]");
  // the comment is the cell's last line, after any warning badges
  return (await rows.locator("td:nth-child(14)").allInnerTexts()).map((t) => (t.split("\n").at(-1) ?? "").trim());
}

async function addRule(page: Page, cidr: string, comment: string, placeAt?: number) {
  await page.getByRole("button", { name: "New rule" }).click();
  const form = page.getByRole("form", { name: "New rule" });
  await form.getByLabel("Source", { exact: true }).selectOption("cidrs");
  await form.getByLabel(/^Source networks/).fill(cidr);
  await form.getByLabel("Egress ISP").selectOption({ index: 1 });
  await form.getByLabel("SNAT pool").selectOption({ label: "telia-a" });
  await form.getByLabel("Comment").fill(comment);
  if (placeAt !== undefined) await form.getByLabel(/^Put it at #/).fill(String(placeAt));
  await form.getByLabel("Comment").press("Enter");
  await expectNoDialog(page);
}

/** Drags a row by its handle onto another row with the mouse, in small steps as a hand does. */
async function drag(page: Page, handle: Locator, onto: Locator) {
  const from = await handle.boundingBox();
  const to = await onto.boundingBox();
  if (!from || !to) throw new Error("the rows are not on screen");
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 - 6, { steps: 3 });
  await page.mouse.move(from.x + from.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
}

test("switch the rule order, drag and keyboard-move rules, and see where a new rule lands", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("order");
  await seedCluster(page, name, (ids) =>
    [
      ["100.64.0.0/16", "wide"],
      ["100.64.1.0/24", "narrow"],
      ["100.64.1.7/32", "host"],
    ].map(([cidr, comment]) => ({
      source: { kind: "cidrs", cidrs: [cidr] },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment,
    })),
  );
  // from the clusters list, by clicking, as a person goes
  await page.reload();
  await page.getByRole("link", { name }).click();
  await page.getByRole("link", { name: "Rules" }).click();

  const banner = page.getByRole("region", { name: "Rule order" });
  await expect(banner).toContainText("Rule order: most specific first.");
  await expect(page.locator("#rules-count")).toHaveText("3 rules");
  expect(await listed(page)).toEqual(["host", "narrow", "wide"]);
  // rows are dragged only when the list order is what applies
  await expect(page.getByRole("button", { name: /^Drag rule/ })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("order-specificity.png") });

  // switching shows first which rules change place
  await banner.getByRole("button", { name: "Switch to “rules apply in the order listed”…" }).click();
  const dialog = page.getByRole("dialog", { name: "Switch to “rules apply in the order listed”" });
  await expect(dialog).toContainText("2 of 3 rules change place");
  const moved = dialog.getByRole("region", { name: "Rules that change place" });
  await expect(moved.getByRole("row").nth(1)).toHaveText(/#3 "wide"\s*#1 "wide"/);
  await expect(moved.getByRole("row").nth(2)).toHaveText(/#1 "host"\s*#3 "host"/);
  await page.screenshot({ path: testInfo.outputPath("order-switch-preview.png") });
  await expectAccessible(page, "switch dialog", '[role="dialog"]');
  await dialog.getByRole("button", { name: "Switch to “rules apply in the order listed”" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "2 rules changed place" })).toBeVisible();
  await expect(banner).toContainText("Rule order: rules apply in the order listed.");
  await expect.poll(() => listed(page)).toEqual(["wide", "narrow", "host"]);
  await page.screenshot({ path: testInfo.outputPath("order-list.png") });

  // drag "host" (#3) onto #1 with the mouse
  const row = (place: number) => page.locator(`tr[aria-rowindex="${place + 1}"]`);
  await drag(page, page.getByRole("button", { name: "Drag rule #3 to another place" }), row(1));
  await expect.poll(() => listed(page)).toEqual(["host", "wide", "narrow"]);

  // the keyboard: Space picks "narrow" (#3) up, ↑ moves it, Space drops it at #2
  const handle = page.getByRole("button", { name: "Drag rule #3 to another place" });
  await handle.focus();
  // each step waits for what a screen reader hears, as a person waits for the row to follow
  const heard = page.locator('[id^="DndLiveRegion"]');
  await page.keyboard.press("Space");
  await expect(heard).toContainText(/Picked up rule #3|Rule #3 is over #3/);
  // an arrow pressed in the instant before the keyboard sensor listens is lost, as a person's
  // would be: press again only while the rule has not moved
  await expect(async () => {
    if (!(await heard.textContent())?.includes("Rule #3 is over #2")) await page.keyboard.press("ArrowUp");
    await expect(heard).toContainText("Rule #3 is over #2", { timeout: 2_000 });
  }).toPass({ timeout: 10_000 });
  await page.keyboard.press("Space");
  await expect(heard).toContainText("Rule #3 was dropped at #2");
  await expect.poll(() => listed(page)).toEqual(["host", "narrow", "wide"]);
  // and the move buttons do the same
  await page.getByRole("button", { name: "Move rule #1 down" }).click();
  await expect.poll(() => listed(page)).toEqual(["narrow", "host", "wide"]);
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // a new rule goes to the end of the list, and the page says so
  await addRule(page, "100.64.1.9/32", "new host");
  await expect(page.getByRole("status").filter({ hasText: "Placed at #4 of 4" })).toContainText(
    "rules apply in the order listed, so a new rule goes to the end",
  );
  await expect.poll(() => listed(page)).toEqual(["narrow", "host", "wide", "new host"]);
  // or where it is put
  await addRule(page, "100.64.3.0/24", "put second", 2);
  await expect(page.getByRole("status").filter({ hasText: "Placed at #2 of 5, where you put it" })).toBeVisible();
  await expect.poll(() => listed(page)).toEqual(["narrow", "put second", "host", "wide", "new host"]);
  await page.screenshot({ path: testInfo.outputPath("order-list-new-rule.png") });
  await expectAccessible(page, "rules page in list order", "main");

  // back to most specific first: a new /24 lands by specificity, and the note says why
  await banner.getByRole("button", { name: "Switch to “most specific first”…" }).click();
  const back = page.getByRole("dialog", { name: "Switch to “most specific first”" });
  await expect(back).toContainText("rules change place");
  await back.getByRole("button", { name: "Switch to “most specific first”" }).click();
  await expect(banner).toContainText("Rule order: most specific first.");
  await addRule(page, "100.64.2.0/24", "lab");
  await expect(page.getByRole("status").filter({ hasText: "Placed at #" })).toContainText(
    /Placed at #\d of 6, most specific first: .*source \/24 is more specific than #\d's \/16/,
  );
  await page.screenshot({ path: testInfo.outputPath("order-specificity-new-rule.png") });
});

import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

/** No accessibility violations in the parts of the page that `selectors` pick (the screens under test). */
export async function expectAccessible(page: Page, what: string, ...selectors: string[]) {
  let axe = new AxeBuilder({ page });
  for (const s of selectors) axe = axe.include(s);
  const result = await axe.analyze();
  expect(
    result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    what,
  ).toEqual([]);
}

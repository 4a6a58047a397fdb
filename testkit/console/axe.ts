import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

/** The axe violations in the parts of the page that `selectors` pick (the whole page without any), as "rule: targets". */
export async function axeViolations(page: Page, ...selectors: string[]): Promise<string[]> {
  let axe = new AxeBuilder({ page });
  for (const s of selectors) axe = axe.include(s);
  const result = await axe.analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** No accessibility violations (axe) in the parts of the page that `selectors` pick (the screens under test). */
export async function expectAccessible(page: Page, what: string, ...selectors: string[]) {
  expect(await axeViolations(page, ...selectors), what).toEqual([]);
}

import { expect, test } from "@playwright/test";
import { axeViolations } from "../../testkit/console/axe";
import { api, seedPublishedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

// Every page of the console, reached by clicking as a person would, has no axe violations: a
// cluster with ISPs, pools, a zone, a rule, a published revision and a draft change shows them all
// with content rather than their empty states.

const CLUSTER_PAGES = [
  "Overview",
  "Rules",
  "ISPs",
  "Pools",
  "Zones",
  "Services",
  "Simulate",
  "Changes",
  "Import",
  "Health",
  "Alerts",
  "Gateways",
  "Revisions",
  "History",
  "Settings",
];

test("every page passes axe, with content and with the draft banner showing", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  const name = uniqueName("a11y");
  const seeded = await seedPublishedCluster(page, name);
  await api(page, "zone.create", { clusterId: seeded.clusterId, fields: { name: "lab", networks: ["100.65.0.0/24"] } });
  await api(page, "gateway.create", { clusterId: seeded.clusterId, name: "gw-1", address: "" });

  const nav = page.getByRole("navigation", { name: "Main" });
  // every page is checked before the test says which failed, so one run lists them all
  const found: Record<string, string[]> = {};
  const check = async (what: string) => {
    // the page clicked to, rendered: its link is the current one, it has its heading, nothing loads
    await expect(nav.getByRole("link", { name: what, exact: true })).toHaveAttribute("aria-current", "page");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expect(page.locator(".loading")).toHaveCount(0);
    const v = await axeViolations(page);
    if (v.length > 0) found[what] = v;
  };
  for (const top of ["Audit log", "API reference", "Users", "Clusters"]) {
    await nav.getByRole("link", { name: top, exact: true }).click();
    await check(top);
  }
  await page.getByRole("link", { name }).click();
  for (const section of CLUSTER_PAGES) {
    await nav.getByRole("link", { name: section, exact: true }).click();
    await check(section);
  }
  expect(found).toEqual({});
});

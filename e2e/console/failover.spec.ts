import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { type LabSession, startLabSession } from "../../testkit/failover-lab/lab-session";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * An operator's failover, clicked in the browser against a namespace lab: two gateways running
 * the real agent, enrolled in the console under test, each carrying a LAN client's steady UDP
 * stream. Fail over ISP A on the Health page, confirm with the impact in view, and the streams'
 * packets reach the server from ISP B's pool; Restore brings them back.
 */

test("fail over an ISP from the Health page: traffic moves to ISP B on every gateway, and Restore brings it back", async ({
  page,
  baseURL,
}, testInfo) => {
  test.setTimeout(150_000);
  if (process.getuid?.() !== 0) throw new Error("this test builds network namespaces: run it as root");
  let session: LabSession | null = null;
  try {
    session = await startLabSession({
      consoleUrl: baseURL ?? "http://127.0.0.1:3100",
      username: E2E_ADMIN.username,
      password: E2E_ADMIN.password,
      gateways: 2,
      name: uniqueName("fo"),
    });
    const s = session;
    const onPool = (isp: "a" | "b") => s.streams.every((st) => s.lab.pools[isp].includes(st.seenNow() ?? ""));
    await expect.poll(() => onPool("a"), { timeout: 15_000 }).toBe(true);

    await signIn(page);
    await page.goto(s.healthUrl);
    const cardA = page.getByRole("region", { name: "ISP isp-a" });
    await expect(cardA.getByText("2 up")).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole("region", { name: "ISP isp-b" }).getByText("2 up")).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath("health.png"), fullPage: true });

    await cardA.getByRole("button", { name: "Fail over isp-a…" }).click();
    const dialog = page.getByRole("dialog", { name: "Fail over isp-a" });
    const impact = dialog.getByRole("region", { name: "Impact" });
    await expect(impact).toContainText("Traffic moves to isp-b");
    await expect(impact).toContainText("1 rule change where their connections go");
    await expect(impact.getByRole("table", { name: "Rules affected" })).toContainText("isp-b · pool-b");
    await expect(impact.getByRole("table", { name: "Backups" })).toContainText("up");
    await expect(impact).toContainText("2 of 2 gateways online will apply it");
    await page.screenshot({ path: testInfo.outputPath("failover-confirm.png") });
    await dialog.getByRole("button", { name: "Fail over isp-a" }).click();

    const progress = page.getByRole("status", { name: "Failover progress" });
    await expect(progress).toContainText("applied on every gateway", { timeout: 10_000 });
    await expect(progress.getByText(/gw1: applied after/)).toBeVisible();
    await expect(progress.getByText(/gw2: applied after/)).toBeVisible();
    // the traffic itself: every client's packets now reach the server from ISP B's pool
    await expect.poll(() => onPool("b"), { timeout: 10_000 }).toBe(true);
    await expect(cardA.getByText("failed over by admin to the first healthy backup")).toBeVisible();
    await expect(cardA.getByText("via isp-b")).toHaveCount(2);
    await expect(page.getByRole("region", { name: "Failover events" })).toContainText(
      "admin failed isp-a over to isp-b",
    );
    await page.screenshot({ path: testInfo.outputPath("failed-over.png"), fullPage: true });
    // the timeline names who did it, and the operation's completion with its timing
    await expect(page.getByRole("region", { name: "Failover events" })).toContainText(
      /Failover of isp-a applied on every gateway in \d+/,
    );

    await cardA.getByRole("button", { name: "Restore isp-a…" }).click();
    const restore = page.getByRole("dialog", { name: "Restore isp-a" });
    await expect(restore.getByRole("region", { name: "Impact" })).toContainText("Traffic comes back from isp-b");
    await restore.getByRole("button", { name: "Restore isp-a" }).click();
    await expect(progress).toContainText("Restore of isp-a");
    await expect(progress).toContainText("applied on every gateway", { timeout: 10_000 });
    await expect.poll(() => onPool("a"), { timeout: 10_000 }).toBe(true);
    await expect(cardA.getByText("active", { exact: true })).toBeVisible();
  } finally {
    await session?.stop();
  }
});

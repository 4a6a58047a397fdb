import { expect, test } from "@playwright/test";
import { AGENT_API_PREFIX, type StatusReport } from "../../core/protocol/agent-api";
import { startWebhookReceiver } from "../../testkit/alerts/receivers";
import { enrolledAgent } from "../../testkit/console/agent-reports";
import { expectAccessible } from "../../testkit/console/axe";
import { api } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

test("alerts: an admin adds a webhook channel with field errors first, sends a test that arrives, and an incident reaches it", async ({
  page,
}, testInfo) => {
  const receiver = await startWebhookReceiver();
  await signIn(page);
  const name = uniqueName("alerts");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  try {
    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
    await expect(page.getByRole("heading", { name: "Alerts", level: 1 })).toBeVisible();
    await expect(page.getByText("No channels yet")).toBeVisible();
    await expect(page.getByText("No incidents so far.")).toBeVisible();

    await page.getByRole("button", { name: "Add channel" }).click();
    const form = page.getByRole("form", { name: "New alert channel" });
    await form.getByLabel(/^URL/).fill("ftp://hooks.example.com/x");
    await form.getByRole("button", { name: "Add channel" }).click();
    await expect(page.locator("#channel-name-error")).toHaveText("Name is required");
    await expect(page.locator("#channel-url-error")).toHaveText(
      "URL must be an http:// or https:// address, e.g. https://hooks.example.com/T000/B000/XXXX",
    );
    await form.getByLabel("Name").fill("noc-hook");
    await form.getByLabel(/^URL/).fill(receiver.url);
    await form.getByRole("button", { name: "Add channel" }).click();
    await expect(page.getByRole("status").filter({ hasText: 'Added channel "noc-hook".' })).toBeVisible();

    const row = page.getByRole("table", { name: "Alert channels" }).getByRole("row", { name: /noc-hook/ });
    // the URL's token never comes back to the browser: only its origin and last characters
    await expect(row).toContainText(/JSON to http:\/\/127\.0\.0\.1:\d+\/…XYZW/);
    await expect(page.locator("body")).not.toContainText("s3cr3t-token");
    await expect(row).toContainText("nothing sent yet");

    await row.getByRole("button", { name: "Send test through noc-hook" }).click();
    await expect(page.getByRole("status").filter({ hasText: 'Test message sent through "noc-hook".' })).toBeVisible();
    await expect(row).toContainText("last delivery succeeded");
    expect(receiver.bodies).toHaveLength(1);
    expect(receiver.bodies[0]).toMatchObject({ version: 1, phase: "test", cluster: { id: cluster.id, name } });

    // editing leaves the stored URL alone when its field stays empty
    await row.getByRole("button", { name: "Edit noc-hook" }).click();
    const edit = page.getByRole("form", { name: "Edit channel noc-hook" });
    await expect(edit.getByLabel(/^URL/)).toHaveValue("");
    await expect(edit.getByLabel(/^URL/)).toHaveAttribute("placeholder", /stored: http:\/\/127\.0\.0\.1:\d+\/…XYZW/);
    await edit.getByLabel("Format").selectOption("slack");
    await edit.getByRole("button", { name: "Save channel" }).click();
    await expect(page.getByRole("status").filter({ hasText: 'Saved channel "noc-hook".' })).toBeVisible();
    await expect(row).toContainText("Slack-compatible to http://127.0.0.1");
    await row.getByRole("button", { name: "Send test through noc-hook" }).click();
    await expect(page.getByRole("status").filter({ hasText: 'Test message sent through "noc-hook".' })).toBeVisible();
    expect(receiver.bodies).toHaveLength(2);
    expect(receiver.bodies[1]).toMatchObject({ text: `:bell: [${name}] TEST: Test message from Gatehouse` });

    // a gateway whose apply fails: the console opens an incident and the channel gets one message
    const agent = await enrolledAgent(page, cluster.id, "gw-alerts");
    const report: StatusReport = {
      agentVersion: "1.0.0",
      running: null,
      lastApply: {
        revision: 1,
        failoverEpoch: 0,
        ok: false,
        error: "nft: syntax error, unexpected newline",
        at: new Date().toISOString(),
        durationsMs: {},
      },
      facts: { hostname: "gw-alerts", kernel: "6.1", nftVersion: "1.0.6", interfaces: [] },
    };
    const posted = await page.request.post(`${AGENT_API_PREFIX}/status`, {
      headers: { authorization: `Bearer ${agent.agentToken}` },
      data: report,
    });
    expect(posted.ok()).toBe(true);
    const history = page.getByRole("table", { name: "Alert history" });
    await expect(history).toContainText('Gateway "gw-alerts" failed to apply its policy', { timeout: 15_000 });
    await expect(history).toContainText("opening to noc-hook: sent", { timeout: 15_000 });
    expect(receiver.bodies).toHaveLength(3);
    expect(receiver.bodies[2]).toMatchObject({
      text: expect.stringContaining(`[${name}] CRITICAL: Gateway "gw-alerts"`),
    });
    await page.screenshot({ path: testInfo.outputPath("alerts.png"), fullPage: true });
    await expectAccessible(page, "alerts page", "main");

    // the history is in the audit log too, filtered from the page's link
    await page.getByRole("link", { name: "Alert events in the audit log" }).click();
    await expect(page.getByText('Alert opened: Gateway "gw-alerts" failed to apply its policy')).toBeVisible();
    await expect(page.getByText('Sent a test message through alert channel "noc-hook"')).toHaveCount(2);
  } finally {
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
    await receiver.close();
  }
});

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import ssh2 from "ssh2";
import { ed25519KeyPair } from "../../testkit/fakes/ssh-keys";
import { fingerprintOf } from "../../server/ssh/fingerprint";
import { AGENT_NODE_FLAGS, agentEnvAssignments } from "../../core/protocol/agent-runtime";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * The SSH pages in a browser. A throwaway SSH server on 127.0.0.1 (ssh2's own) shows a host key
 * and lets nobody in: enough to see the console read the key for confirmation. Enrollment itself
 * runs against real sshds in network namespaces (e2e/ssh/*.test.ts).
 */

async function hostKeyServer() {
  const pair = ed25519KeyPair();
  const parsed = ssh2.utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  const server = new ssh2.Server({ hostKeys: [pair.private] }, (client) => {
    client.on("authentication", (ctx) => ctx.reject());
    client.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    fingerprint: fingerprintOf(key?.getPublicSSH() ?? Buffer.alloc(0)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("adding a gateway over SSH: the host key is read and must be confirmed", async ({ page }, testInfo) => {
  const ssh = await hostKeyServer();
  try {
    await signIn(page);
    const cluster = uniqueName("ssh");
    await page.getByRole("button", { name: "New cluster" }).click();
    await page.getByLabel("Name").fill(cluster);
    await page.getByRole("button", { name: "Create cluster" }).click();
    await page.getByRole("link", { name: cluster }).click();
    await page.getByRole("link", { name: "Gateways" }).click();
    await page.getByRole("link", { name: "Add over SSH" }).click();
    await expect(page.getByRole("heading", { name: "Add a gateway over SSH" })).toBeVisible();

    // nothing listens on port 1: the console says so
    await page.getByLabel("SSH host").fill("127.0.0.1");
    await page.getByLabel("Port").fill("1");
    await page.getByRole("button", { name: "Read host key" }).click();
    await expect(
      page.getByRole("alert").filter({ hasText: "Cannot reach 127.0.0.1:1: connection refused" }),
    ).toBeVisible();

    await page.getByLabel("Port").fill(String(ssh.port));
    await page.getByRole("button", { name: "Read host key" }).click();
    await expect(page.getByTestId("host-key-fingerprint")).toHaveText(ssh.fingerprint);
    await expect(page.getByText("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")).toBeVisible();
    const install = page.getByRole("button", { name: /^Install and enroll/ });
    await expect(install).toBeDisabled();
    await page.getByLabel("I compared it: this is the gateway's host key").check();
    await expect(install).toBeEnabled();
    // another port is another server: the confirmation goes
    await page.getByLabel("Port").fill("1");
    await expect(install).toBeDisabled();
    await page.getByLabel("Port").fill(String(ssh.port));
    await page.getByRole("button", { name: "Read host key" }).click();
    await page.getByLabel("I compared it: this is the gateway's host key").check();

    // this server lets nobody in: the job stops at the login, and nothing is registered
    await page.getByLabel("Gateway name").fill("gw-refused");
    await page.getByRole("textbox", { name: "Private key" }).fill(ed25519KeyPair().private);
    await install.click();
    const job = page.getByRole("region", { name: "Job: Enroll gw-refused over SSH" });
    await expect(job.getByRole("status", { name: "job failed" })).toBeVisible();
    await expect(job.getByRole("alert")).toContainText(
      `Log in over SSH failed: 127.0.0.1:${ssh.port} refused the SSH login as "root" with the private key`,
    );
    await expect(job.locator('[data-step="connect"]')).toHaveAttribute("data-state", "failed");
    await expect(job.locator('[data-step="register"]')).toHaveAttribute("data-state", "skipped");
    await page.screenshot({ path: testInfo.outputPath("add-over-ssh-failed.png") });

    await page.getByRole("link", { name: "Back to gateways" }).click();
    const recent = page.getByRole("region", { name: "Recent SSH jobs" });
    await expect(recent.getByRole("row").filter({ hasText: "Enroll gw-refused over SSH" })).toContainText("failed");
    await expect(page.getByRole("link", { name: "gw-refused" })).toHaveCount(0);
  } finally {
    await ssh.close();
  }
});

test("a gateway's page: SSH access, diagnostics and upgrades", async ({ page }, testInfo) => {
  await signIn(page);
  const cluster = uniqueName("sshgw");
  await page.getByRole("button", { name: "New cluster" }).click();
  await page.getByLabel("Name").fill(cluster);
  await page.getByRole("button", { name: "Create cluster" }).click();
  await page.getByRole("link", { name: cluster }).click();
  await page.getByRole("link", { name: "Gateways" }).click();
  await page.getByRole("button", { name: "Add gateway" }).click();
  await page.getByLabel("Name").fill("gw-by-hand");
  await page.getByRole("button", { name: "Add and show enrollment token" }).click();
  // the one-time token can be kept as a file, and the commands pass it through a root-only file
  const token = await page.getByLabel("Enrollment token").inputValue();
  expect(token).toMatch(/^ghe_/);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download token" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("gw-by-hand.enroll-token");
  expect(readFileSync(await download.path(), "utf8")).toBe(`${token}\n`);
  const commands = await page.getByLabel("Run on the gateway, as root").inputValue();
  expect(commands).toContain("--token-file /root/gatehouse-enroll.token");
  expect(commands).not.toContain(`--token ${token}`);
  // the install lines fetch the agent's one file from this console: what they fetch runs, and is what it says
  const install = await page.getByLabel(/^Install the agent/).inputValue();
  const agentUrl = /curl -fsS -o \/usr\/local\/bin\/gatehouse-agent (\S+)/.exec(install)?.[1] ?? "";
  expect(agentUrl).toMatch(/\/api\/agent\/v1\/download\/gatehouse-agent$/);
  const fetched = await page.request.get(agentUrl);
  expect(fetched.status()).toBe(200);
  const bytes = await fetched.body();
  expect(bytes.toString("utf8", 0, 200).split("\n")[0]).toBe(
    `#!/usr/bin/env -S ${agentEnvAssignments().join(" ")} node ${AGENT_NODE_FLAGS.join(" ")}`,
  );
  expect(fetched.headers()["x-gatehouse-agent-sha256"]).toBe(createHash("sha256").update(bytes).digest("hex"));
  const unit = await page.request.get(`${agentUrl}.service`);
  expect(await unit.text()).toContain(
    `ExecStart=/usr/bin/node ${AGENT_NODE_FLAGS.join(" ")} /usr/local/bin/gatehouse-agent run`,
  );
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("region", { name: "Agent upgrades" })).toContainText("The console's agent build is");

  await page.getByRole("link", { name: "gw-by-hand" }).click();
  await expect(page.getByRole("heading", { name: "gw-by-hand" })).toBeVisible();
  await expect(page.getByText("No SSH access is configured for this gateway.")).toBeVisible();
  await page.getByRole("button", { name: "Run diagnostics" }).click();
  await expect(
    page.getByRole("alert").filter({ hasText: 'Gateway "gw-by-hand" has no SSH access configured' }),
  ).toBeVisible();
  await expect(page.getByRole("button", { name: "Store credentials" })).toBeVisible();
  const upgrade = page.getByRole("region", { name: "Agent upgrade" });
  await expect(upgrade).toContainText("the console's build is");
  await expect(upgrade.getByRole("button", { name: /^Reinstall|^Upgrade/ })).toBeDisabled();
  await expect(upgrade).toContainText("Upgrades over SSH need kept SSH credentials.");
  await page.screenshot({ path: testInfo.outputPath("gateway-page.png") });
});

import { expect, type Page, test } from "@playwright/test";
import { type EnrolledAgent, enrolledAgent, haReport, postStatus } from "../../testkit/console/agent-reports";
import { expectAccessible } from "../../testkit/console/axe";
import { api } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/** Fills one gateway's links and high-availability form from its page and saves it to the draft. */
async function setGatewaySettings(
  page: Page,
  gateway: string,
  values: { linkAddress: string | null; lanAddress: string; priority: string },
) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
  await page.getByRole("table", { name: "Gateways" }).getByRole("link", { name: gateway }).click();
  await expect(page.getByRole("heading", { name: gateway, level: 1 })).toBeVisible();
  const form = page.getByRole("form", { name: "Links and high availability" });
  // the ISP's values are the defaults, shown until the gateway has its own
  await expect(form.getByLabel("Interface on telia")).toHaveAttribute("placeholder", "eth1");
  await expect(form.getByLabel("Next hop on telia")).toHaveAttribute("placeholder", "198.51.100.1");
  await expect(form.getByLabel("Own address on telia")).toHaveAttribute("placeholder", "198.51.100.2/24");
  // null: the gateway takes the ISP's address
  if (values.linkAddress !== null) await form.getByLabel("Own address on telia").fill(values.linkAddress);
  await form.getByLabel(/^LAN interface/).fill("eth0");
  await form.getByLabel(/^Own LAN address/).fill(values.lanAddress);
  await form.getByLabel(/^VRRP priority/).fill(values.priority);
  await form.getByRole("button", { name: "Save to draft" }).click();
  await expect(form.getByRole("status").filter({ hasText: "Saved to the draft" })).toBeVisible();
}

test("high availability: settings with their checks, per-gateway links, live VRRP roles, split brain, drain", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("ha");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  const agents: EnrolledAgent[] = [];
  try {
    const isp = await api<{ entity: { id: string } }>(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1", localAddress: "198.51.100.2/24" },
    });
    const pool = await api<{ entity: { id: string } }>(page, "pool.create", {
      clusterId: cluster.id,
      fields: {
        name: "telia-onlink",
        ispId: isp.entity.id,
        mode: "on-link",
        addresses: ["198.51.100.10-198.51.100.13"],
      },
    });
    await api(page, "rule.create", {
      clusterId: cluster.id,
      fields: {
        source: { kind: "cidrs", cidrs: ["100.64.0.0/24"] },
        egressIspId: isp.entity.id,
        action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
      },
    });
    agents.push(await enrolledAgent(page, cluster.id, "gw-a"), await enrolledAgent(page, cluster.id, "gw-b"));
    const [gwA, gwB] = agents as [EnrolledAgent, EnrolledAgent];

    // the cluster's settings, as a person gets there
    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "High availability" })).toBeVisible();
    const ha = page.getByRole("form", { name: "High availability settings" });
    await expect(ha.getByRole("radio", { name: /^none/ })).toBeChecked();
    await ha.getByRole("radio", { name: /^active\/standby/ }).check();
    await expect(ha.getByText(/One gateway at a time \(the VRRP master\)/)).toBeVisible();

    // a value the schema refuses is named at its field before anything is sent
    await ha.getByLabel(/^LAN virtual address/).fill("100.64.0.1");
    await ha.getByLabel("VRID on telia").fill("300");
    await ha.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.locator("#ha-lan-vip-error")).toContainText(/^LAN virtual address /);
    await expect(page.locator(`#ha-link-${isp.entity.id}-vrid-error`)).toHaveText("VRID must be 255 or less");

    // saved without a LAN virtual address: the draft's check names the field that blocks publishing
    await ha.getByLabel(/^LAN virtual address/).fill("");
    await ha.getByLabel("VRID on telia").fill("52");
    await ha.getByRole("button", { name: "Save to draft" }).click();
    await expect(ha.getByRole("status").filter({ hasText: "Fix the problems marked here" })).toBeVisible();
    await expect(page.locator("#ha-lan-vip-error")).toHaveText(
      "LAN virtual address is required in active/standby mode: it is the clients' default gateway",
    );
    await expectAccessible(
      page,
      "the high-availability settings with a field error",
      "section[aria-labelledby=ha-heading]",
    );
    await page.screenshot({ path: testInfo.outputPath("ha-settings-error.png"), fullPage: true });

    await ha.getByLabel(/^LAN virtual address/).fill("100.64.0.1/24");
    await ha.getByRole("button", { name: "Save to draft" }).click();
    await expect(ha.getByRole("status").filter({ hasText: "Saved to the draft" })).toBeVisible();
    await expect(page.locator("#ha-lan-vip-error")).toHaveCount(0);

    // each gateway's own addresses and priority, from its page
    await setGatewaySettings(page, "gw-a", {
      linkAddress: null,
      lanAddress: "100.64.0.2/24",
      priority: "150",
    });
    await expectAccessible(
      page,
      "the gateway's VRRP role and its links form",
      "section[aria-labelledby=gateway-vrrp-heading]",
      "section[aria-labelledby=gateway-ha-heading]",
    );
    // gw-b's form: a priority out of range is named before sending; saved without its LAN
    // address, the draft's check names that field
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
    await page.getByRole("table", { name: "Gateways" }).getByRole("link", { name: "gw-b" }).click();
    const formB = page.getByRole("form", { name: "Links and high availability" });
    await formB.getByLabel(/^LAN interface/).fill("eth0");
    await formB.getByLabel(/^VRRP priority/).fill("250");
    await formB.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.locator("#gw-priority-error")).toHaveText(
      "VRRP priority must be 249 or less (250 is an active/active gateway's own group)",
    );
    await formB.getByLabel(/^VRRP priority/).fill("100");
    await formB.getByRole("button", { name: "Save to draft" }).click();
    await expect(formB.getByRole("status").filter({ hasText: "Fix the problems marked here" })).toBeVisible();
    await expect(page.locator("#gw-lan-address-error")).toHaveText(
      'Gateway "gw-b" needs its own LAN address (such as 100.64.0.2/24) for high availability',
    );
    await setGatewaySettings(page, "gw-b", {
      linkAddress: "198.51.100.3/24",
      lanAddress: "100.64.0.3/24",
      priority: "100",
    });

    // publish through the Changes page
    await page
      .getByRole("status", { name: "Unpublished changes" })
      .getByRole("link", { name: "Review and publish" })
      .click();
    const publish = page.getByRole("form", { name: "Publish" });
    await publish.getByLabel("Message").fill("active/standby pair");
    await publish.getByRole("button", { name: /^Publish as revision/ }).click();
    await expect(page.getByRole("status").filter({ hasText: "Published revision 1." })).toBeVisible();

    // the agents report: gw-a took over as master, gw-b is its backup
    const at = new Date().toISOString();
    await postStatus(page, gwA, {
      ha: haReport({ cluster: "master" }, [
        { group: "cluster", from: "backup", to: "master", at, commitMs: 12, error: "" },
      ]),
    });
    await postStatus(page, gwB, { ha: haReport({ cluster: "backup" }) });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
    const table = page.getByRole("table", { name: "Gateways" });
    const roleOf = (gw: string) => table.getByRole("row").filter({ hasText: gw }).getByTestId("ha-role");
    await expect(roleOf("gw-a")).toContainText("master cluster");
    await expect(roleOf("gw-b")).toContainText("backup cluster");
    await expect(roleOf("gw-a")).toContainText("keepalived running");
    await expectAccessible(page, "the Gateways list with VRRP roles", "table[aria-label=Gateways]");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Health" }).click();
    const roles = page.getByRole("table", { name: "VRRP roles" });
    await expect(roles.getByRole("row").filter({ hasText: "gw-a" })).toContainText("master");
    await expect(roles.getByRole("row").filter({ hasText: "gw-b" })).toContainText("backup");
    await expectAccessible(page, "the Health page's VRRP roles", "section[aria-labelledby=ha-overview-heading]");

    // both claim master: split brain, named on every cluster page, and live (no reload)
    const incidents = page.getByRole("alert", { name: "High-availability incidents" });
    await expect(incidents).toHaveCount(0);
    await postStatus(page, gwB, { ha: haReport({ cluster: "master" }) });
    await expect(incidents).toContainText('Split brain in VRRP group "cluster"');
    await expect(incidents).toContainText('"gw-a"');
    await expect(incidents).toContainText('"gw-b"');
    await expect(roles.getByRole("row").filter({ hasText: "gw-b" })).toContainText("master");
    await expectAccessible(page, "the split-brain banner", "[aria-label='High-availability incidents']");
    await page.screenshot({ path: testInfo.outputPath("ha-split-brain.png"), fullPage: true });

    // gw-a steps down: the incident ends, gw-b holds the group
    await postStatus(page, gwA, { ha: haReport({ cluster: "backup" }) });
    await expect(incidents).toHaveCount(0);

    // drain gw-b: the confirmation names what moves where
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
    await table.getByRole("link", { name: "gw-b" }).click();
    await page.getByRole("button", { name: "Drain this gateway" }).click();
    const dialog = page.getByRole("dialog", { name: "Drain gw-b" });
    await expect(dialog.getByRole("region", { name: "Effect" })).toContainText(
      /Group "cluster": .* move from "gw-b" to "gw-a"\./,
    );
    await expectAccessible(page, "the drain confirmation", "[role=dialog]");
    await page.screenshot({ path: testInfo.outputPath("ha-drain.png") });
    await dialog.getByRole("button", { name: "Drain", exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Return to service" })).toBeVisible();
    await expect(page.getByRole("region", { name: "VRRP role" })).toContainText("drained");

    // back in service: the peers keep the group (preempt is off), the gateway can be drained again
    await page.getByRole("button", { name: "Return to service" }).click();
    const back = page.getByRole("dialog", { name: "Return gw-b to service" });
    await expect(back.getByRole("region", { name: "Effect" })).toContainText("Nothing moves now: preempt is off");
    await back.getByRole("button", { name: "Return to service" }).click();
    await expect(back).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Drain this gateway" })).toBeVisible();

    // the audit log has the drain with its effect, the return, and gw-a's takeover
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page).toHaveURL(/\/audit/);
    const events = page.getByRole("table", { name: "Audit events" });
    await page.getByLabel("Action").fill("gateway.drain");
    await expect(events.getByRole("row").filter({ hasText: 'Drained gateway "gw-b"' })).toContainText(
      /move from "gw-b" to "gw-a"/,
    );
    await page.getByLabel("Action").fill("gateway.return_to_service");
    await expect(events.getByRole("row").filter({ hasText: 'Returned gateway "gw-b" to service' })).toContainText(
      "preempt is off",
    );
    await page.getByLabel("Action").fill("gateway.vrrp_transition");
    await expect(
      events.getByRole("row").filter({ hasText: 'VRRP group "cluster" went from backup to master' }),
    ).toContainText("synced connections committed in 12 ms");
    await page.screenshot({ path: testInfo.outputPath("ha-audit.png") });

    // a viewer sees the roles and the settings but can neither drain nor edit
    const viewer = { username: uniqueName("ha-viewer"), password: "viewer-password-123" };
    await api(page, "user.create", { ...viewer, role: "viewer" });
    const viewerContext = await browser.newContext({ baseURL });
    try {
      const viewerPage = await viewerContext.newPage();
      await signIn(viewerPage, viewer);
      await viewerPage.getByRole("link", { name }).click();
      await viewerPage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
      await viewerPage.getByRole("table", { name: "Gateways" }).getByRole("link", { name: "gw-b" }).click();
      await expect(viewerPage.getByRole("region", { name: "VRRP role" })).toContainText("master cluster");
      const form = viewerPage.getByRole("form", { name: "Links and high availability" });
      await expect(form.getByLabel("Own address on telia")).toHaveValue("198.51.100.3/24");
      await expect(form.getByLabel("Own address on telia")).toBeDisabled();
      await expect(viewerPage.getByRole("button", { name: "Drain this gateway" })).toHaveCount(0);
      await expect(form.getByRole("button", { name: "Save to draft" })).toHaveCount(0);
    } finally {
      await viewerContext.close();
    }
  } finally {
    for (const a of agents) await api(page, "gateway.delete", { id: a.id }).catch(() => {});
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

test("active/active: each gateway's own LAN virtual address, VRID and sync address, checked at the field", async ({
  page,
}) => {
  await signIn(page);
  const name = uniqueName("ha-aa");
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "" });
  const agents: EnrolledAgent[] = [];
  try {
    const isp = await api<{ entity: { id: string } }>(page, "isp.create", {
      clusterId: cluster.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1", localAddress: "198.51.100.2/24" },
    });
    await api(page, "pool.create", {
      clusterId: cluster.id,
      fields: {
        name: "telia-onlink",
        ispId: isp.entity.id,
        mode: "on-link",
        addresses: ["198.51.100.10-198.51.100.13"],
      },
    });
    agents.push(await enrolledAgent(page, cluster.id, "gw-a"), await enrolledAgent(page, cluster.id, "gw-b"));

    await page.goto("/");
    await page.getByRole("link", { name }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    const ha = page.getByRole("form", { name: "High availability settings" });
    await ha.getByRole("radio", { name: /^active\/active/ }).check();
    // the cluster-wide LAN address and link VRIDs are active/standby's; each gateway has its own here
    await expect(ha.getByLabel(/^LAN virtual address/)).toHaveCount(0);
    await expect(ha.getByRole("table", { name: "VRRP on the ISP links" })).toHaveCount(0);
    await ha.getByLabel(/^Connection sync/).check();
    await ha.getByLabel(/^Sync interface/).fill("sync0");
    await ha.getByRole("button", { name: "Save to draft" }).click();
    await expect(ha.getByRole("status").filter({ hasText: "Saved to the draft" })).toBeVisible();

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Gateways" }).click();
    await page.getByRole("table", { name: "Gateways" }).getByRole("link", { name: "gw-a" }).click();
    const form = page.getByRole("form", { name: "Links and high availability" });
    await expect(form.getByLabel("Floating address on telia")).toBeVisible();
    await expect(form.getByLabel(/^Sync-link address/)).toBeVisible();
    await form.getByLabel(/^LAN interface/).fill("eth0");
    await form.getByLabel(/^Own LAN address/).fill("100.64.0.2/24");
    await form.getByLabel(/^LAN virtual address/).fill("100.64.0.11/24");
    await form.getByRole("button", { name: "Save to draft" }).click();
    await expect(page.locator("#gw-vrid-error")).toHaveText(
      'Gateway "gw-a" needs the VRID of its VRRP group in active/active mode',
    );
    await expect(page.locator("#gw-sync-address-error")).toHaveText(
      'Gateway "gw-a" needs its sync-link address: connection sync is on',
    );
    await expectAccessible(page, "the gateway's form in active/active", "section[aria-labelledby=gateway-ha-heading]");

    await form.getByLabel(/^VRID/).fill("61");
    await form.getByLabel(/^Sync-link address/).fill("100.100.0.1");
    await form.getByRole("button", { name: "Save to draft" }).click();
    await expect(form.getByRole("status").filter({ hasText: "Saved to the draft" })).toBeVisible();
    await expect(page.locator("#gw-vrid-error")).toHaveCount(0);
    await expect(page.locator("#gw-sync-address-error")).toHaveCount(0);
    await page.reload();
    await expect(form.getByLabel(/^VRID/)).toHaveValue("61");
    await expect(form.getByLabel(/^LAN virtual address/)).toHaveValue("100.64.0.11/24");
  } finally {
    for (const a of agents) await api(page, "gateway.delete", { id: a.id }).catch(() => {});
    await api(page, "cluster.delete", { id: cluster.id, confirmName: name }).catch(() => {});
  }
});

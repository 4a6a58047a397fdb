import { expect, type Page, test } from "@playwright/test";
import { HEALTH_ENDPOINT, type IspHealth } from "../../core/protocol/health-report";
import { AGENT_API_PREFIX } from "../../core/protocol/agent-api";
import { type EnrolledAgent, enrolledAgent, haReport, postStatus } from "../../testkit/console/agent-reports";
import { expectAccessible } from "../../testkit/console/axe";
import { api, seedPublishedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * The cluster overview's picture, from sign-in: two gateways (one VRRP master, one backup) report
 * their links as agents do; on the first, telia is down and failed over to cogent. The picture
 * shows each state in words, follows the next report by itself, and each element opens its page.
 */

const isp = (ispId: string, over: Partial<IspHealth> = {}): IspHealth => ({
  ispId,
  state: "up",
  since: new Date().toISOString(),
  reason: "answering probes",
  lossPct: 0,
  rttMs: 1.2,
  lastRttMs: 1.2,
  probesSent: 10,
  probesLost: 0,
  proberError: "",
  failover: null,
  held: false,
  alert: "",
  connections: 0,
  unansweredArp: [],
  ...over,
});

async function postHealth(page: Page, agent: EnrolledAgent, isps: IspHealth[]) {
  const res = await page.request.post(`${AGENT_API_PREFIX}/${HEALTH_ENDPOINT}`, {
    headers: { authorization: `Bearer ${agent.agentToken}` },
    data: {
      agentVersion: "1.0.0",
      at: new Date().toISOString(),
      running: { revision: 1, failoverEpoch: 0 },
      lastLoad: null,
      isps,
      conntrackTotal: null,
      events: [],
    },
  });
  expect(res.ok(), await res.text()).toBe(true);
}

test("the overview draws the cluster with live link states, a failover in force, and links to each element's page", async ({
  page,
}, testInfo) => {
  // up to a minute's wait so the reports share a rollup bucket (below)
  test.setTimeout(150_000);
  await signIn(page);
  const name = uniqueName("topo");
  const seeded = await seedPublishedCluster(page, name);
  const { telia, cogent } = seeded.isps as { telia: string; cogent: string };
  try {
    const gw1 = await enrolledAgent(page, seeded.clusterId, "gw1");
    const gw2 = await enrolledAgent(page, seeded.clusterId, "gw2");
    // gw1's down and up reports below must fall into one 5-minute rollup (the 24 h chart's point
    // of half the time up): start them well clear of a bucket's edge
    const FIVE_MIN = 5 * 60_000;
    const toEdge = FIVE_MIN - (Date.now() % FIVE_MIN);
    if (toEdge < 60_000) await page.waitForTimeout(toEdge + 1_000);
    await postStatus(page, gw1, { revision: 1, ha: haReport({ VI_1: "master" }) });
    await postStatus(page, gw2, { revision: 1, ha: haReport({ VI_1: "backup" }, [], 90) });
    const failover = { backupIspId: cogent, mode: "automatic" as const, since: new Date().toISOString() };
    await postHealth(page, gw1, [
      isp(telia, { state: "down", lossPct: 100, rttMs: null, failover, connections: 0 }),
      isp(cogent, { connections: 7 }),
    ]);
    await postHealth(page, gw2, [isp(telia, { connections: 5 }), isp(cogent, { connections: 3 })]);

    // a person goes from the cluster list to the overview
    await page.getByRole("link", { name }).click();
    await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
    const picture = page.getByRole("region", { name: "Cluster picture" });
    const svg = picture.getByLabel("Cluster topology");
    await expect(svg).toBeVisible();

    await expect(svg.getByRole("link", { name: "LAN office: 100.64.0.0/16" })).toBeVisible();
    await expect(svg.getByRole("link", { name: "Gateway gw1: online, VRRP master" })).toBeVisible();
    await expect(svg.getByRole("link", { name: "Gateway gw2: online, VRRP backup" })).toBeVisible();
    const teliaNode = svg.getByRole("link", { name: /^ISP telia \(eth1\)/ });
    await expect(teliaNode).toHaveAccessibleName(
      "ISP telia (eth1): failed over on some gateways; 5 connections; gw1: down, failed over to cogent · 0 connections; gw2: up · 5 connections; pool telia-a: 4 addresses",
    );
    await expect(teliaNode).toContainText("gw1: down, failed over to cogent");
    await expect(svg.getByRole("link", { name: /^ISP cogent \(eth2\): active; 10 connections;/ })).toBeVisible();
    await expect(svg.getByRole("link", { name: "The internet: link health and failover" })).toBeVisible();
    // the failed-over ISP is drawn dashed, not by colour alone
    await expect(svg.getByTestId("topology-isp-telia")).toHaveAttribute("stroke-dasharray", "8 4");
    await expect(svg.getByTestId("topology-isp-cogent")).not.toHaveAttribute("stroke-dasharray", /./);
    await page.screenshot({ path: testInfo.outputPath("topology-failed-over.png"), fullPage: true });
    await expectAccessible(page, "overview with its picture", "main");

    // live: the next report (telia back on gw1) shows without reloading
    await postHealth(page, gw1, [isp(telia, { connections: 2 }), isp(cogent, { connections: 7 })]);
    await expect(svg.getByRole("link", { name: /^ISP telia \(eth1\): active; 7 connections; gw1: up/ })).toBeVisible({
      timeout: 10_000,
    });
    await expect(svg.getByTestId("topology-isp-telia")).not.toHaveAttribute("stroke-dasharray", /./);
    await page.screenshot({ path: testInfo.outputPath("topology-restored.png"), fullPage: true });

    // each element opens its page
    await svg.getByRole("link", { name: /^Gateway gw2/ }).click();
    await expect(page).toHaveURL(new RegExp(`/clusters/${seeded.clusterId}/gateways/${gw2.id}$`));
    await expect(page.getByRole("heading", { name: "gw2", level: 1 })).toBeVisible();
    await page.goBack();
    await svg.getByRole("link", { name: /^ISP cogent/ }).click();
    await expect(page).toHaveURL(new RegExp(`/clusters/${seeded.clusterId}/isps$`));
    await page.goBack();
    await svg.getByRole("link", { name: /^LAN office/ }).click();
    await expect(page).toHaveURL(new RegExp(`/clusters/${seeded.clusterId}/zones$`));
    await page.goBack();
    await svg.getByRole("link", { name: /^The internet/ }).click();
    await expect(page).toHaveURL(new RegExp(`/clusters/${seeded.clusterId}/health$`));
    await expect(page.getByRole("heading", { name: "Link health" })).toBeVisible();

    // the health charts' range picker: the reports above were folded into the minute rollups
    const teliaCard = page.getByRole("region", { name: "ISP telia" });
    await expect(teliaCard.getByRole("figure", { name: "Loss (%), last 20 minutes" })).toBeVisible();
    await page.getByRole("radio", { name: "24 h" }).check();
    await expect(teliaCard.getByRole("figure", { name: "Loss (%), last 24 hours, 5-minute means" })).toBeVisible();
    await expect(
      teliaCard.getByRole("figure", { name: "Up (% of the time), last 24 hours, 5-minute means" }),
    ).toBeVisible();
    // gw1 reported telia down once and up once in this bucket: half the time up, drawn as a point
    const upChart = teliaCard.getByRole("figure", { name: "Up (% of the time), last 24 hours, 5-minute means" });
    await expect(upChart.locator(".recharts-line-dot").first()).toBeVisible();
    expect(await upChart.locator(".recharts-line-dot").count()).toBe(2);
    await page.getByRole("radio", { name: "90 d" }).check();
    await expect(teliaCard.getByRole("figure", { name: "Latency (ms), last 90 days, 6-hour means" })).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath("health-90-days.png"), fullPage: true });
    await expectAccessible(page, "health page with the range picker", "main");
  } finally {
    await api(page, "cluster.delete", { id: seeded.clusterId, confirmName: name }).catch(() => undefined);
  }
});

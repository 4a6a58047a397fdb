import { expect, type Locator, test } from "@playwright/test";
import { pickAddress } from "../../core/spec/decide";
import { api, seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

/**
 * The simulator shows what the compiled draft does to a packet. The expected SNAT address is
 * worked out here with the gateway's own hash over the pool's addresses and the cluster's seed.
 */
test("the simulator names the deciding rule, why earlier rules missed, the SNAT address and the next hop", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const seeded = await seedCluster(page, uniqueName("sim"), (ids) => [
    // position 1: the most specific source
    {
      source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
      destinations: ["198.51.100.128/25"],
      protocol: "udp",
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: "lab udp",
    },
    { source: { kind: "cidrs", cidrs: ["100.64.9.0/24"] }, action: { type: "drop" }, comment: "quarantine" },
    {
      source: { kind: "cidrs", cidrs: ["100.64.7.0/24"] },
      egressIspId: ids.isps.telia,
      action: { type: "exclude" },
      redirectIspId: ids.isps.cogent,
      comment: "via cogent unNATed",
    },
    {
      source: { kind: "zone", zoneId: ids.zones.office },
      egressIspId: ids.isps.telia,
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      comment: "office via telia",
    },
  ]);
  const cluster = await api<{ settings: { hashSeed: number } }>(page, "cluster.get", { id: seeded.clusterId }, "query");
  const telia = ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"];
  const expected = pickAddress(
    { id: "p", name: "telia-a", ispId: "i", mode: "routed", addresses: telia, portRange: null },
    "sh",
    { src: "100.64.1.10", dst: "198.51.100.200", protocol: "tcp", routedIspId: "i" },
    cluster.settings.hashSeed,
  );

  await page.goto(`/clusters/${seeded.clusterId}/simulate`);
  const packet = page.getByRole("form", { name: "Packet" });
  // routing: "through ISP <name>", "as the gateway's routing decides" or "not through an ISP"
  const simulate = async (src: string, dst: string, protocol: string, routing: string) => {
    await packet.getByLabel("Source address").fill(src);
    await packet.getByLabel("Destination address").fill(dst);
    await packet.getByLabel("Protocol").selectOption(protocol);
    await packet.getByLabel("Routing").selectOption({ label: routing });
    await packet.getByLabel("Destination address").press("Enter");
  };
  const result = (isp: string): Locator => page.getByRole("article", { name: `If routing picks ${isp}` });

  // tcp from the office: rule 1 wants udp, so the zone rule at position 4 decides
  await simulate("100.64.1.10", "198.51.100.200", "tcp", "through ISP telia");
  let r = result("telia");
  await expect(r.getByRole("heading")).toContainText("SNAT");
  await expect(r).toContainText('rule #4 "office via telia"');
  await expect(r.locator("dd").nth(1)).toHaveText(expected ?? "");
  await expect(r).toContainText("198.51.100.1 on eth1 (ISP telia)");
  // a short list of earlier rules is open from the start
  await expect(r.getByText(/Why the 3 earlier rules did not match/)).toBeVisible();
  const why = r.getByRole("table", { name: "Rules that did not match via telia" });
  await expect(why.getByRole("row").filter({ hasText: "lab udp" })).toContainText("protocol tcp is not udp");
  await expect(why.getByRole("row").filter({ hasText: "quarantine" })).toContainText(
    "source 100.64.1.10 is not in 100.64.9.0/24",
  );
  await page.screenshot({ path: testInfo.outputPath("simulate-snat.png") });

  // the same packet over udp to the lab's destinations: rule 1
  await simulate("100.64.1.10", "198.51.100.200", "udp", "through ISP telia");
  r = result("telia");
  await expect(r).toContainText('rule #1 "lab udp"');

  // a dropped source
  await simulate("100.64.9.9", "203.0.113.99", "icmp", "through ISP cogent");
  r = result("cogent");
  await expect(r.getByRole("heading")).toContainText("dropped");
  await expect(r).toContainText("Rule #2 drops the connection.");

  // excluded and redirected through the other ISP's next hop
  await simulate("100.64.7.7", "198.51.100.50", "tcp", "through ISP telia");
  r = result("telia");
  await expect(r.getByRole("heading")).toContainText("forwarded without NAT");
  await expect(r).toContainText("203.0.113.1 on eth2 (ISP cogent)");
  await expect(r).toContainText('The rule redirects the connection to ISP "cogent" instead of "telia"');

  // a source no rule covers, with routing spreading connections over both ISPs: one answer per next hop
  await simulate("100.99.0.1", "198.51.100.50", "tcp", "as the gateway's routing decides");
  for (const isp of ["telia", "cogent"]) {
    await expect(
      page.getByRole("article", { name: `If routing picks ${isp} (the route's hash, per connection)` }),
    ).toContainText("No rule matches and the cluster drops unmatched traffic");
  }
  await page.screenshot({ path: testInfo.outputPath("simulate-unmatched.png") });

  // the route over one next hop only is a plain route through it; over none the form says what is missing
  await packet.getByRole("checkbox", { name: "cogent" }).uncheck();
  await packet.getByLabel("Destination address").press("Enter");
  await expect(page.getByRole("article")).toHaveCount(1);
  await expect(page.getByRole("article", { name: "If routing picks telia", exact: true })).toBeVisible();
  await packet.getByRole("checkbox", { name: "telia" }).uncheck();
  await packet.getByLabel("Destination address").press("Enter");
  await expect(page.locator("#sim-nexthops-error")).toHaveText("Tick at least one ISP as a next hop of the route");

  // routing that sends the connection through no ISP: Gatehouse leaves it alone
  await simulate("100.64.1.10", "198.51.100.200", "tcp", "not through an ISP");
  r = page.getByRole("article", { name: "If routing picks no ISP" });
  await expect(r.getByRole("heading")).toContainText("not Gatehouse's traffic");
  await expect(r).toContainText("Routing does not send this connection out through an ISP");

  // a bad address is refused in the form
  await simulate("100.64.1.300", "198.51.100.50", "tcp", "through ISP telia");
  await expect(page.locator("#sim-src-error")).toHaveText(
    "Source address must be an IPv4 address such as 198.51.100.1",
  );
});

import { expect, test } from "@playwright/test";
import { expectAccessible } from "../../testkit/console/axe";
import { reportingGateway } from "../../testkit/console/agent-reports";
import { api, seedCluster } from "../../testkit/console/editing-helpers";
import { signIn, uniqueName } from "../../testkit/console/fixtures";

const PAGE = [".page-head", ".main > p", ".main > .card"];
const SERVICES = ["table[aria-label='Virtual services']", "section[aria-label^='Real servers of']"];

const traffic = (connections: number) => ({
  connections,
  packetsIn: connections * 12,
  packetsOut: connections * 10,
  bytesIn: connections * 1500,
  bytesOut: connections * 15_000,
  connectionsPerSecond: 4,
  packetsInPerSecond: 40,
  packetsOutPerSecond: 30,
  active: 3,
  inactive: 1,
});

test("virtual services: create with field errors, publish, see a real server down, drain one, simulate a client", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const name = uniqueName("vs");
  // ISPs telia and cogent, pool telia-a is 198.51.100.10-198.51.100.13
  const { clusterId } = await seedCluster(page, name);
  const gateways: string[] = [];
  try {
    await page.goto("/");
    await page.getByRole("link", { name }).click();
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Services" }).click();
    await expect(page.getByRole("heading", { name: "Virtual services", level: 1 })).toBeVisible();
    await expect(page.getByText("No virtual services yet.")).toBeVisible();
    await expectAccessible(page, "empty Services page", ...PAGE);

    // bad input: a weight out of range (the browser's check) and a pool's address (the server's)
    await page.getByRole("button", { name: "New virtual service" }).click();
    const dialog = page.getByRole("dialog", { name: "New virtual service" });
    await dialog.getByLabel("Name").fill("web");
    await dialog.getByLabel("Virtual address").fill("198.51.100.11");
    await dialog.getByLabel(/^Port /).fill("80");
    await dialog.getByLabel("Scheduler").selectOption("sh");
    await dialog.getByLabel("Real server 1 address").fill("100.64.10.2");
    await dialog.getByLabel("Real server 1 port").fill("8080");
    await dialog.getByLabel("Real server 1 weight").fill("70000");
    await dialog.getByRole("button", { name: "Create virtual service" }).click();
    await expect(dialog.locator("#vs-rs-0-weight-error")).toHaveText("Real server 1 weight must be at most 65535");
    await expect(dialog.getByLabel("Real server 1 weight")).toHaveAttribute("aria-invalid", "true");
    await expectAccessible(page, "form with a field error", "[role=dialog]");

    await dialog.getByLabel("Real server 1 weight").fill("1");
    await dialog.getByRole("button", { name: "Create virtual service" }).click();
    await expect(dialog.locator("#vs-address-error")).toHaveText(
      'Virtual address is an address of pool "telia-a": a virtual address must be its own',
    );
    await expect(dialog.getByRole("alert")).toHaveText("Not saved: fix the fields marked below.");

    // fixed, with a second real server of weight 2
    await dialog.getByLabel("Virtual address").fill("203.0.113.80");
    await dialog.getByRole("button", { name: "Add real server" }).click();
    await dialog.getByLabel("Real server 2 address").fill("100.64.10.3");
    await dialog.getByLabel("Real server 2 port").fill("8080");
    await dialog.getByLabel("Real server 2 weight").fill("2");
    await dialog.getByLabel("Persistence (s)").fill("300");
    await dialog.getByRole("button", { name: "Create virtual service" }).click();
    await expect(dialog).toHaveCount(0);
    const services = page.getByRole("table", { name: "Virtual services" });
    const row = services.getByRole("row").filter({ hasText: "web" });
    await expect(row).toContainText("203.0.113.80:80/tcp");
    await expect(row).toContainText("300 s");
    await expect(row.getByRole("cell").nth(4)).toHaveText("2");
    await expect(row.getByTestId("service-health")).toHaveText("no report");

    // publish it
    await page
      .getByRole("status", { name: "Unpublished changes" })
      .getByRole("link", { name: "Review and publish" })
      .click();
    const added = page.getByRole("article", { name: 'added virtual service "web"' });
    await expect(added).toContainText("100.64.10.2:8080 weight 1 NAT, 100.64.10.3:8080 weight 2 NAT");
    await expect(added).toContainText("sh (source hash)");
    const publish = page.getByRole("form", { name: "Publish" });
    await publish.getByLabel("Message").fill("web service");
    await publish.getByRole("button", { name: "Publish as revision 1" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Published revision 1." })).toBeVisible();

    // a gateway reports one real server up with traffic and the other down
    const [service] = await api<Array<{ entity: { id: string } }>>(page, "virtualService.list", { clusterId }, "query");
    if (!service) throw new Error("the service was not saved");
    gateways.push(
      await reportingGateway(page, clusterId, "edge-1", {
        revision: 1,
        virtualServices: [
          {
            serviceId: service.entity.id,
            realServers: [
              { address: "100.64.10.2", port: 8080, health: "up", since: null, lastError: "", traffic: traffic(120) },
              {
                address: "100.64.10.3",
                port: 8080,
                health: "down",
                since: new Date().toISOString(),
                lastError: "connect: connection refused",
                traffic: traffic(0),
              },
            ],
          },
        ],
      }),
    );
    await nav.getByRole("link", { name: "Services" }).click();
    await expect(row.getByTestId("service-health")).toHaveText("1 up, 1 down");
    const servers = page.getByRole("table", { name: "web real servers" });
    const rs1 = servers.getByRole("row").filter({ hasText: "100.64.10.2:8080" });
    const rs2 = servers.getByRole("row").filter({ hasText: "100.64.10.3:8080" });
    await expect(rs1.getByTestId("real-server-health")).toHaveText("up");
    await expect(rs2.getByTestId("real-server-health")).toContainText("down");
    await expect(rs2.getByTestId("real-server-health")).toContainText("edge-1: down (connect: connection refused)");
    await expect(rs1).toContainText("120");
    await page.screenshot({ path: testInfo.outputPath("services-health.png"), fullPage: true });
    await expectAccessible(page, "Services page with health", ...PAGE, ...SERVICES);

    // drain the first server: a change of the draft
    await rs1.getByRole("button", { name: "Drain real server 100.64.10.2:8080 of web" }).click();
    await expect(rs1.getByText("draining", { exact: true })).toBeVisible();
    await expect(rs1.getByRole("button", { name: "Enable real server 100.64.10.2:8080 of web" })).toBeVisible();
    await expect(page.getByRole("status", { name: "Unpublished changes" })).toBeVisible();

    // edit: the form opens with the stored values, including the drained server
    await page.getByRole("button", { name: "Edit virtual service web" }).click();
    const edit = page.getByRole("dialog", { name: "Edit virtual service web" });
    await expect(edit.getByLabel("Real server 1 state")).toHaveValue("draining");
    await expect(edit.getByLabel("Persistence (s)")).toHaveValue("300");
    await edit.getByLabel("Real server 2 weight").fill("3");
    await edit.getByRole("button", { name: "Save virtual service" }).click();
    await expect(edit).toHaveCount(0);
    await expect(rs2.getByRole("cell").nth(1)).toHaveText("3");

    // the simulator: with the first server draining, the hash can only pick the second
    await nav.getByRole("link", { name: "Simulate" }).click();
    const inbound = page.getByRole("form", { name: "Inbound connection" });
    await inbound.getByRole("button", { name: "Simulate inbound" }).click();
    await expect(inbound.locator("#in-src-error")).toHaveText(
      "Client address must be an IPv4 address such as 198.51.100.1",
    );
    await inbound.getByLabel("Client address").fill("192.0.2.10");
    await inbound.getByLabel("Virtual address").fill("203.0.113.80");
    await inbound.getByLabel("Port", { exact: true }).fill("80");
    await inbound.getByRole("button", { name: "Simulate inbound" }).click();
    const result = page.getByRole("article", { name: "Inbound result" });
    await expect(result.getByRole("heading")).toContainText("Virtual service web");
    await expect(result).toContainText("picks 100.64.10.3:8080 for client 192.0.2.10");
    await expect(result.locator("dd").nth(1)).toHaveText("100.64.10.3:8080");
    await expect(result).toContainText("Persistence: after its first connection the client keeps the same server");
    await page.screenshot({ path: testInfo.outputPath("simulate-inbound.png"), fullPage: true });
    await expectAccessible(
      page,
      "Simulate page with an inbound result",
      "form[aria-label='Inbound connection']",
      "article[aria-label='Inbound result']",
    );

    // delete asks first
    await nav.getByRole("link", { name: "Services" }).click();
    await page.getByRole("button", { name: "Delete virtual service web" }).click();
    const confirm = page.getByRole("dialog", { name: 'Delete virtual service "web"?' });
    await confirm.getByRole("button", { name: 'Delete virtual service "web"' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(page.getByText("No virtual services yet.")).toBeVisible();
  } finally {
    for (const id of gateways) await api(page, "gateway.delete", { id }).catch(() => {});
    await api(page, "cluster.delete", { id: clusterId, confirmName: name }).catch(() => {});
  }
});

import { expect, type Page } from "@playwright/test";

/**
 * Seeding for the editing specs: calls the console's own tRPC API from the signed-in page, so
 * data goes through the same services and checks as the UI.
 */

async function csrf(page: Page): Promise<string> {
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === "gh_csrf");
  if (!c) throw new Error("not signed in: no CSRF cookie");
  return decodeURIComponent(c.value);
}

export async function api<T = unknown>(
  page: Page,
  path: string,
  input: unknown,
  kind: "mutation" | "query" = "mutation",
): Promise<T> {
  const base = new URL(page.url()).origin;
  const headers = { "content-type": "application/json", "x-csrf-token": await csrf(page), origin: base };
  const res =
    kind === "mutation"
      ? await page.request.post(`${base}/api/trpc/${path}`, { headers, data: { json: input } })
      : await page.request.get(
          `${base}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
          {
            headers,
          },
        );
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
  if (!res.ok() || !body.result) throw new Error(`${path} failed: ${body.error?.json.message ?? res.status()}`);
  return body.result.data.json;
}

export interface Seeded {
  clusterId: string;
  isps: Record<string, string>;
  pools: Record<string, string>;
  zones: Record<string, string>;
  rules: string[];
}

/** A cluster with two ISPs (telia, cogent), a pool each, a zone and the given rules. */
export async function seedCluster(
  page: Page,
  name: string,
  rules: (ids: Omit<Seeded, "rules" | "clusterId">) => unknown[] = () => [],
): Promise<Seeded> {
  const cluster = await api<{ id: string }>(page, "cluster.create", { name, description: "e2e" });
  const clusterId = cluster.id;
  const isp = async (fields: unknown) =>
    (await api<{ entity: { id: string } }>(page, "isp.create", { clusterId, fields })).entity.id;
  const telia = await isp({ name: "telia", interface: "eth1", nextHop: "198.51.100.1" });
  const cogent = await isp({ name: "cogent", interface: "eth2", nextHop: "203.0.113.1" });
  const pool = async (fields: unknown) =>
    (await api<{ entity: { id: string } }>(page, "pool.create", { clusterId, fields })).entity.id;
  const teliaA = await pool({ name: "telia-a", ispId: telia, addresses: ["198.51.100.10-198.51.100.13"] });
  const cogentA = await pool({ name: "cogent-a", ispId: cogent, addresses: ["203.0.113.16/30"] });
  const office = (
    await api<{ entity: { id: string } }>(page, "zone.create", {
      clusterId,
      fields: { name: "office", networks: ["100.64.0.0/16"] },
    })
  ).entity.id;
  const ids = {
    isps: { telia, cogent },
    pools: { "telia-a": teliaA, "cogent-a": cogentA },
    zones: { office },
  };
  const ruleIds: string[] = [];
  for (const fields of rules(ids)) {
    ruleIds.push((await api<{ entity: { id: string } }>(page, "rule.create", { clusterId, fields })).entity.id);
  }
  return { clusterId, ...ids, rules: ruleIds };
}

/** Publishes the cluster's draft as it is now; answers the new revision. */
export async function publishDraft(page: Page, clusterId: string, message: string): Promise<{ number: number }> {
  const status = await api<{ draftVersion: number }>(page, "draft.status", { clusterId }, "query");
  return api<{ number: number }>(page, "draft.publish", { clusterId, message, draftVersion: status.draftVersion });
}

/** A cluster (seedCluster) with one SNAT rule for the office zone through telia, published as revision 1. */
export async function seedPublishedCluster(page: Page, name: string): Promise<Seeded> {
  const seeded = await seedCluster(page, name, (ids) => [
    {
      source: { kind: "zone", zoneId: ids.zones.office },
      action: { type: "snat", poolId: ids.pools["telia-a"], algorithm: "sh" },
      egressIspId: ids.isps.telia,
    },
  ]);
  await publishDraft(page, seeded.clusterId, "first");
  return seeded;
}

/** The console's draft as the API reports it, for checks that nothing was saved. */
export async function listOf(page: Page, kind: "isp" | "pool" | "zone", clusterId: string): Promise<unknown[]> {
  return api<unknown[]>(page, `${kind}.list`, { clusterId }, "query");
}

export async function expectNoDialog(page: Page) {
  await expect(page.getByRole("dialog")).toHaveCount(0);
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../testkit/server/databases";
import { type ApiHarness, apiHarness, errorOf, tableCounts } from "../../testkit/server/api";

const issuesOf = (err: { cause?: unknown }) =>
  ((err.cause as { issues?: { path: unknown[]; message: string }[] } | undefined)?.issues ?? []).map((i) => [
    i.path.join("."),
    i.message,
  ]);

/** ISPs sharing an interface, DHCP/PPPoE addressing and interface-address pools through the API. */
describe.each(PROVIDERS)("uplinks through the API on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let exchangeA: string;
  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "uplinks", description: "" })).id;
    exchangeA = (
      await op.isp.create({ clusterId, fields: { name: "ix-a", interface: "ix0", nextHop: "198.51.100.1" } })
    ).entity.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("keeps a second static ISP on the same interface with another next hop, and a DHCP ISP's addressing", async () => {
    const op = h.as("operator");
    const b = await op.isp.create({ clusterId, fields: { name: "ix-b", interface: "ix0", nextHop: "198.51.100.2" } });
    expect(b.entity).toMatchObject({ interface: "ix0", addressing: "static" });
    const d = await op.isp.create({
      clusterId,
      fields: { name: "cable", interface: "wan0", addressing: "dhcp", nextHop: "100.66.0.1" },
    });
    const read = await h.as("viewer").isp.get({ clusterId, id: d.entity.id });
    expect(read.entity).toMatchObject({ addressing: "dhcp", interface: "wan0" });
    const pool = await op.pool.create({
      clusterId,
      fields: { name: "cable-if", ispId: d.entity.id, mode: "interface" },
    });
    expect(pool.entity).toMatchObject({ mode: "interface", addresses: [] });
    expect((await h.as("viewer").pool.get({ clusterId, id: pool.entity.id })).entity).toMatchObject({
      mode: "interface",
      addresses: [],
    });
  });

  it("refuses, naming the field and changing nothing: a DHCP ISP on a shared interface, the same next hop twice, unknown addressing, addresses on an interface pool and none on a routed one", async () => {
    const op = h.as("operator");
    const before = await tableCounts(h.db);
    const shared = await errorOf(
      op.isp.create({
        clusterId,
        fields: { name: "ix-c", interface: "ix0", addressing: "pppoe", nextHop: "198.51.100.3" },
      }),
    );
    expect(shared.code).toBe("BAD_REQUEST");
    expect(issuesOf(shared)).toContainEqual([
      "interface",
      'interface ix0 is also ISP "ix-a"\'s uplink; a PPPoE uplink needs an interface of its own (ISPs share one only with static next hops)',
    ]);
    const sameHop = await errorOf(
      op.isp.create({ clusterId, fields: { name: "ix-d", interface: "ix0", nextHop: "198.51.100.1" } }),
    );
    expect(issuesOf(sameHop)).toContainEqual(["nextHop", 'next hop 198.51.100.1 is already used by ISP "ix-a"']);
    const bogus = await errorOf(
      op.isp.create({
        clusterId,
        fields: {
          name: "x",
          interface: "wan9", // an addressing the API does not know, as a hostile client would send it
          addressing: "bootp" as "dhcp",
          nextHop: "198.51.100.9",
        },
      }),
    );
    expect(bogus.code).toBe("BAD_REQUEST");
    expect(issuesOf(bogus).map(([path]) => path)).toContain("addressing");
    const withAddresses = await errorOf(
      op.pool.create({
        clusterId,
        fields: { name: "if2", ispId: exchangeA, mode: "interface", addresses: ["198.51.100.60"] },
      }),
    );
    expect(issuesOf(withAddresses)).toContainEqual([
      "addresses",
      "addresses must be empty: an interface-address pool uses the ISP interface's current address",
    ]);
    const empty = await errorOf(
      op.pool.create({ clusterId, fields: { name: "r0", ispId: exchangeA, mode: "routed" } }),
    );
    expect(issuesOf(empty)).toContainEqual(["addresses", "addresses needs at least one address"]);
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("lets only one of two concurrent DHCP ISPs on one free interface in", async () => {
    const op = h.as("operator");
    const make = (name: string) =>
      op.isp
        .create({
          clusterId,
          fields: { name, interface: "wan7", addressing: "dhcp", nextHop: `100.66.7.${name.length}` },
        })
        .then(
          () => "created",
          (e: { code?: string }) => e.code ?? "error",
        );
    const results = await Promise.all([make("dsl-one"), make("dsl-second")]);
    expect(results.filter((r) => r === "created")).toHaveLength(1);
    const isps = await h.as("viewer").isp.list({ clusterId });
    expect(isps.filter((i) => i.entity.interface === "wan7")).toHaveLength(1);
  });
});

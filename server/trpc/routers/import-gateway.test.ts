import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zClusterSettings } from "../../../core/policy/model";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";

/** Each gateway's keepalived.conf, imported for that gateway, sets its own VRRP values in the draft. */

const dir = join(__dirname, "../../../core/import/__samples__/vrrp-pair");
const file = (name: string) => readFileSync(join(dir, name), "utf8");

describe.each(PROVIDERS)("keepalived import for one gateway on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let gwA: string;
  let gwB: string;
  let otherGateway: string;
  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "pair" })).id;
    const isp = await op.isp.create({
      clusterId,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" },
    });
    await op.pool.create({
      clusterId,
      fields: { name: "telia-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    const admin = h.as("admin");
    gwA = (await admin.gateway.create({ clusterId, name: "lb-a", address: "" })).id;
    gwB = (await admin.gateway.create({ clusterId, name: "lb-b", address: "" })).id;
    const other = (await op.cluster.create({ name: "elsewhere" })).id;
    otherGateway = (await admin.gateway.create({ clusterId: other, name: "lb-x", address: "" })).id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const settings = async () =>
    zClusterSettings.parse(
      JSON.parse(
        (await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } })).settings,
      ),
    );

  it("refuses a gateway of another cluster, naming the field, and changes nothing", async () => {
    const op = h.as("operator");
    const before = await settings();
    for (const gatewayId of [otherGateway, "no-such-gateway"]) {
      const err = (await op.import
        .preview({ clusterId, text: file("lb-a.conf"), fileName: "lb-a.conf", gatewayId })
        .then(
          () => ({}),
          (e: unknown) => e,
        )) as { code?: string; message?: string; cause?: { issues?: unknown[] } };
      expect(err).toMatchObject({ code: "BAD_REQUEST", message: "gatewayId: no such gateway in this cluster" });
      expect(err.cause?.issues).toEqual([{ path: ["gatewayId"], message: "is not a gateway of this cluster" }]);
    }
    expect(await settings()).toEqual(before);
  });

  it("adds each gateway's priority and own addresses from its own file", async () => {
    const op = h.as("operator");
    for (const [name, gatewayId] of [
      ["lb-a.conf", gwA],
      ["lb-b.conf", gwB],
    ] as const) {
      const preview = await op.import.preview({ clusterId, text: file(name), fileName: name, gatewayId });
      expect(preview.counts).toMatchObject({ haSettings: 1, gatewaySettings: 1 });
      expect(preview.blockers).toEqual([]);
      const out = await op.import.add({
        clusterId,
        text: file(name),
        fileName: name,
        gatewayId,
        draftVersion: preview.draftVersion,
      });
      expect(out.added.gatewaySettings).toBe(1);
    }
    const s = await settings();
    expect(s.ha).toMatchObject({ mode: "active_standby", lanVrid: 51 });
    expect(
      s.gateways.map((g) => [g.gatewayId, g.priority, g.lanInterface, g.lanAddress, g.links[0]?.localAddress]),
    ).toEqual([
      [gwA, 150, "lan0", "100.64.0.2/24", "198.51.100.2/24"],
      [gwB, 100, "lan1", "100.64.0.3/24", "198.51.100.3/24"],
    ]);
  });
});

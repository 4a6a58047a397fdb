import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HaStatus, StatusReport, VrrpState } from "../../../core/protocol/agent-api";
import { zGatewaySpec } from "../../../core/spec/schema";
import { handleDesired, handleEnroll, handleStatus } from "../../http/agent-api";
import { clearSpecCache } from "../../services/gateways/desired";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, tableCounts } from "../../../testkit/server/api";

/**
 * High availability through the API: cluster HA settings and per-gateway settings in the draft,
 * publish refusing incomplete ones, the agents' VRRP reports (transitions, split brain, no
 * healthy backup) in the audit log, and draining a gateway.
 */

const BASE = "http://console.test/api/agent/v1";
const FACTS = { hostname: "gw", kernel: "6.1.0", nftVersion: "1.0.6", interfaces: [] };
const post = (path: string, token: string, body: unknown) =>
  new Request(`${BASE}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

function haReport(states: Record<string, VrrpState>, transitions: HaStatus["transitions"] = []): StatusReport {
  return {
    agentVersion: "1.2.3",
    running: null,
    lastApply: null,
    facts: FACTS,
    ha: {
      checkedAt: new Date().toISOString(),
      groups: Object.entries(states).map(([name, state]) => ({ name, state, since: null, effectivePriority: 100 })),
      keepalived: "running",
      conntrackd: "running",
      transitions,
      error: "",
    },
  };
}

describe.each(PROVIDERS)("high availability through the API on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  const gw: { id: string; token: string; name: string }[] = [];
  let ispId = "";

  const op = () => h.as("operator");
  const draftVersion = async () => (await op().draft.status({ clusterId })).draftVersion;
  const status = async (i: number, report: StatusReport) => {
    const res = await handleStatus(h.db, post("status", gw[i]?.token as string, report));
    expect(res.status).toBe(200);
  };
  const audit = (action: string) => h.db.auditEvent.findMany({ where: { action, clusterId }, orderBy: { seq: "asc" } });

  beforeAll(async () => {
    h = await apiHarness(provider);
    const cluster = await op().cluster.create({ name: "ha-lab", description: "" });
    clusterId = cluster.id;
    const isp = await op().isp.create({
      clusterId,
      fields: { name: "alpha", interface: "eth1", nextHop: "198.51.100.1", localAddress: "198.51.100.2/24" },
    });
    ispId = isp.entity.id;
    const pool = await op().pool.create({
      clusterId,
      fields: {
        name: "alpha-onlink",
        ispId: isp.entity.id,
        mode: "on-link",
        addresses: ["198.51.100.10-198.51.100.13"],
      },
    });
    await op().rule.create({
      clusterId,
      fields: {
        source: { kind: "cidrs", cidrs: ["100.64.0.0/24"] },
        egressIspId: isp.entity.id,
        action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
      },
    });
    for (const name of ["gw-a", "gw-b"]) {
      const created = await h.as("admin").gateway.create({ clusterId, name, address: "" });
      const res = await handleEnroll(
        h.db,
        post("enroll", created.enrollToken, { agentVersion: "1.2.3", facts: FACTS }),
      );
      const { agentToken } = (await res.json()) as { agentToken: string };
      gw.push({ id: created.id, token: agentToken, name });
    }
    await op().cluster.update({
      id: clusterId,
      draftVersion: await draftVersion(),
      ha: {
        mode: "active_standby",
        lanVirtualAddress: "100.64.0.1/24",
        lanVrid: 51,
        links: [{ ispId: isp.entity.id, vrid: 52, floatingAddress: null }],
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("refuses to publish until every gateway's settings are complete, naming the gateway", async () => {
    const counts = await tableCounts(h.db);
    await expect(op().draft.publish({ clusterId, message: "ha", draftVersion: await draftVersion() })).rejects.toThrow(
      /gateway "gw-a" needs its LAN interface for high availability/,
    );
    expect(await tableCounts(h.db)).toEqual(counts);
  });

  it("refuses a bad VRID at the boundary, naming the field, and stores nothing", async () => {
    const before = await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } });
    await expect(
      op().gateway.updateSettings({
        gatewayId: gw[0]?.id as string,
        draftVersion: await draftVersion(),
        settings: { lanInterface: "eth0", lanAddress: "100.64.0.2/24", vrid: 0 },
      }),
    ).rejects.toThrow(/must be 1 or more/);
    const after = await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true } });
    expect(after.settings).toBe(before.settings);
  });

  it("keeps each gateway's settings in the draft, audited, and publishes them", async () => {
    const values = [
      {
        lanInterface: "eth0",
        lanAddress: "100.64.0.2/24",
        priority: 150,
        links: [{ ispId, localAddress: "198.51.100.2/24" }],
      },
      {
        lanInterface: "ens0",
        lanAddress: "100.64.0.3/24",
        priority: 100,
        links: [{ ispId, interface: "ens1", localAddress: "198.51.100.3/24" }],
      },
    ];
    for (const [i, settings] of values.entries()) {
      const r = await op().gateway.updateSettings({
        gatewayId: gw[i]?.id as string,
        draftVersion: await draftVersion(),
        settings,
      });
      expect(r.issues).toEqual([]);
    }
    expect((await audit("gateway.settings_update")).map((e) => e.targetId)).toEqual([gw[0]?.id, gw[1]?.id]);
    const read = await op().gateway.settings({ id: gw[1]?.id as string });
    expect(read.settings).toMatchObject({ lanInterface: "ens0", priority: 100, links: [{ interface: "ens1" }] });
    const pub = await op().draft.publish({ clusterId, message: "ha on", draftVersion: await draftVersion() });
    expect(pub.number).toBeGreaterThan(0);

    clearSpecCache();
    const res = await handleDesired(
      h.db,
      new Request(`${BASE}/desired?have=none`, { headers: { authorization: `Bearer ${gw[1]?.token}` } }),
    );
    const spec = zGatewaySpec.parse(((await res.json()) as { spec: unknown }).spec);
    expect(spec.isps[0]?.interface).toBe("ens1");
    expect(spec.ha?.groups[0]).toMatchObject({ name: "cluster", priority: 100 });
    expect(spec.ha?.groups[0]?.instances.map((i) => [i.name, i.interface, i.unicastPeers])).toEqual([
      ["lan", "ens0", ["100.64.0.2"]],
      ["isp1", "ens1", ["198.51.100.2"]],
    ]);
  });

  it("audits each VRRP transition once, though the agent resends them", async () => {
    const first = {
      group: "cluster",
      from: "backup" as const,
      to: "master" as const,
      at: "2026-12-05T03:00:00.000Z",
      commitMs: 42,
      error: "",
    };
    const second = {
      ...first,
      from: "master" as const,
      to: "backup" as const,
      at: "2026-12-05T03:00:09.000Z",
      commitMs: null,
    };
    await status(0, haReport({ cluster: "master" }, [first]));
    await status(0, haReport({ cluster: "master" }, [first]));
    await status(0, haReport({ cluster: "backup" }, [first, second]));
    const events = await audit("gateway.vrrp_transition");
    expect(events.map((e) => JSON.parse(e.after as string))).toEqual([
      { group: "cluster", from: "backup", to: "master", at: first.at, commitMs: 42, error: "" },
      { group: "cluster", from: "master", to: "backup", at: second.at, commitMs: null, error: "" },
    ]);
    const listed = await op().gateway.list({ clusterId });
    expect(listed.gateways.find((g) => g.id === gw[0]?.id)?.ha?.groups[0]?.state).toBe("backup");
  });

  it("records split brain and no healthy backup once when they start and once when they end", async () => {
    await status(0, haReport({ cluster: "master" }));
    await status(1, haReport({ cluster: "backup" }));
    expect(await op().gateway.haIncidents({ clusterId })).toEqual([]);
    await status(1, haReport({ cluster: "master" }));
    await status(0, haReport({ cluster: "master" }));
    expect((await op().gateway.haIncidents({ clusterId })).map((i) => [i.kind, [...i.gatewayNames].sort()])).toEqual([
      ["split_brain", ["gw-a", "gw-b"]],
    ]);
    await status(1, haReport({ cluster: "backup" }));
    await status(1, haReport({ cluster: "fault" }));
    await status(0, haReport({ cluster: "master" }));
    expect((await op().gateway.haIncidents({ clusterId })).map((i) => i.kind)).toEqual(["no_healthy_backup"]);
    await status(1, haReport({ cluster: "backup" }));
    expect(await op().gateway.haIncidents({ clusterId })).toEqual([]);
    const opened = (await audit("cluster.ha_incident")).map((e) => JSON.parse(e.after as string));
    const resolved = (await audit("cluster.ha_incident_resolved")).map((e) => JSON.parse(e.after as string));
    // gw-b had not reported yet when gw-a first did: no healthy backup until it did
    expect(opened.map((i) => [i.kind, [...i.gateways].sort()])).toEqual([
      ["no_healthy_backup", ["gw-a"]],
      ["split_brain", ["gw-a", "gw-b"]],
      ["no_healthy_backup", ["gw-a"]],
    ]);
    expect(resolved.map((i) => [i.kind, i.state])).toEqual([
      ["no_healthy_backup", "resolved"],
      ["split_brain", "resolved"],
      ["no_healthy_backup", "resolved"],
    ]);
  });

  it("drains a gateway: the confirmation names what moves, the epoch changes, the spec says drained", async () => {
    await status(0, haReport({ cluster: "master" }));
    await status(1, haReport({ cluster: "backup" }));
    const a = gw[0]?.id as string;
    const preview = await op().gateway.drainPreview({ gatewayId: a, drain: true });
    expect(preview.effect).toEqual([
      'Group "cluster": 100.64.0.1/24, 198.51.100.10/32, 198.51.100.11/32 and 2 more move from "gw-a" to "gw-b".',
    ]);
    await expect(h.as("viewer").gateway.drain({ gatewayId: a, drain: true })).rejects.toThrow();
    const epoch = (await h.db.cluster.findUniqueOrThrow({ where: { id: clusterId } })).failoverEpoch;
    const done = await op().gateway.drain({ gatewayId: a, drain: true });
    expect(done.failoverEpoch).toBe(epoch + 1);
    await expect(op().gateway.drain({ gatewayId: a, drain: true })).rejects.toThrow(/already drained/);
    const [event] = await audit("gateway.drain");
    expect(JSON.parse(event?.after as string)).toMatchObject({ drained: true, effect: preview.effect });

    const res = await handleDesired(
      h.db,
      new Request(`${BASE}/desired?have=none`, { headers: { authorization: `Bearer ${gw[0]?.token}` } }),
    );
    const spec = zGatewaySpec.parse(((await res.json()) as { spec: unknown }).spec);
    expect(spec.failoverEpoch).toBe(epoch + 1);
    expect(spec.ha).toMatchObject({ drained: true, groups: [{ priority: 1 }] });

    await op().gateway.drain({ gatewayId: a, drain: false });
    expect((await audit("gateway.return_to_service")).length).toBe(1);
    expect((await h.db.gateway.findUniqueOrThrow({ where: { id: a } })).drained).toBe(false);
  });
});

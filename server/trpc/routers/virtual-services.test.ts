import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../../core/protocol/agent-api";
import type { VirtualServiceFields } from "../../../core/policy/virtual-service";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META } from "../../../testkit/server/api";
import { enrollGateway } from "../../services/gateways/enroll";
import { recordAgentStatus } from "../../services/gateways/status";

/** Virtual services through the router: editing the draft, the checks' field messages, drain, status. */
describe.each(PROVIDERS)("virtual service procedures on %s", (provider) => {
  let h: ApiHarness;
  let clusterId: string;
  let agentToken: string;

  // loosely typed on purpose: the tests also send what the schema refuses
  const web = (over: Record<string, unknown> = {}) =>
    ({
      name: "web",
      address: "203.0.113.80",
      port: 80,
      scheduler: "wrr",
      realServers: [
        { address: "100.64.10.2", port: 8080, weight: 1 },
        { address: "100.64.10.3", port: 8080, weight: 2 },
      ],
      ...over,
    }) as VirtualServiceFields;

  /** The AppError a refused call carries: its tRPC code and its field issues. */
  async function refusal(p: Promise<unknown>) {
    try {
      await p;
    } catch (e) {
      const err = e as {
        code: string;
        message: string;
        cause?: { issues?: { path: (string | number)[]; message: string }[] };
      };
      return { code: err.code, message: err.message, issues: err.cause?.issues ?? [] };
    }
    throw new Error("the call should have been refused");
  }

  const count = () => h.db.virtualService.count({ where: { clusterId } });

  beforeAll(async () => {
    h = await apiHarness(provider);
    const op = h.as("operator");
    clusterId = (await op.cluster.create({ name: "inbound", description: "" })).id;
    const isp = await op.isp.create({
      clusterId,
      fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1", localAddress: "198.51.100.2/24" },
    });
    await op.pool.create({
      clusterId,
      fields: { name: "a-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    // a gateway that reported its interfaces: LAN 100.64.10.0/24, uplink 198.51.100.0/24
    const gw = await h.as("admin").gateway.create({ clusterId, name: "gw-a" });
    const enrolled = await enrollGateway(h.db, TEST_META, gw.enrollToken, { agentVersion: "1.0.0" });
    agentToken = enrolled.agentToken;
    await recordAgentStatus(h.db, TEST_META, agentToken, report([]));
  });
  afterAll(async () => {
    await h?.close();
  });

  function report(virtualServices: StatusReport["virtualServices"]): StatusReport {
    return {
      agentVersion: "1.0.0",
      running: null,
      lastApply: null,
      facts: {
        hostname: "gw-a",
        kernel: "6.1",
        nftVersion: "1.0.6",
        interfaces: [
          { name: "lo", state: "UNKNOWN", mac: "", mtu: 65536, addresses: ["127.0.0.1/8"] },
          { name: "eth0", state: "UP", mac: "", mtu: 1500, addresses: ["100.64.10.1/24", "fe80::1/64"] },
          { name: "eth1", state: "UP", mac: "", mtu: 1500, addresses: ["198.51.100.2/24", "198.51.100.10/32"] },
        ],
      },
      virtualServices,
    };
  }

  it("creates, lists and audits a service; a viewer reads but cannot change it", async () => {
    const op = h.as("operator");
    const created = await op.virtualService.create({ clusterId, fields: web() });
    expect(created.version).toBe(1);
    expect(created.entity).toMatchObject({
      name: "web",
      protocol: "tcp",
      persistenceSeconds: 0,
      realServers: [{ weight: 1, mode: "nat", state: "enabled" }, { weight: 2 }],
    });
    const viewer = h.as("viewer");
    const list = await viewer.virtualService.list({ clusterId });
    expect(list.map((r) => r.entity.name)).toEqual(["web"]);
    const audit = await h.db.auditEvent.findFirst({
      where: { action: "virtual_service.create", targetId: created.entity.id },
      select: { targetType: true, after: true, before: true },
    });
    expect(audit?.targetType).toBe("virtual_service");
    expect(JSON.parse(audit?.after ?? "null")).toMatchObject({ name: "web", address: "203.0.113.80" });
    // the draft counts it as a change to publish
    expect((await viewer.draft.summary({ clusterId })).dirty).toBe(true);

    const before = await count();
    expect(
      (await refusal(viewer.virtualService.create({ clusterId, fields: web({ name: "web2", port: 81 }) }))).code,
    ).toBe("FORBIDDEN");
    expect(
      (
        await refusal(
          viewer.virtualService.setRealServerState({
            clusterId,
            id: created.entity.id,
            version: 1,
            index: 0,
            state: "draining",
          }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    expect(await count()).toBe(before);
  });

  it("names the field of each bad value and writes nothing", async () => {
    const op = h.as("operator");
    const before = await count();
    const audits = await h.db.auditEvent.count();
    const bad = await refusal(
      op.virtualService.create({
        clusterId,
        fields: web({
          name: "bad",
          address: "203.0.113.300",
          scheduler: "lc",
          realServers: [{ address: "100.64.10.2", port: 8080, weight: 70000 }],
        }),
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["address", "virtual address must be an IPv4 address such as 198.51.100.1"],
      ["scheduler", "scheduler must be one of rr, wrr, sh, dh, mh, random"],
      ["realServers.0.weight", "real server 1 weight must be at most 65535"],
    ]);

    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ address: "198.51.100.11" }, "address", /is an address of pool "a-main"/],
      [{ address: "198.51.100.2" }, "address", /is the gateway's own address on ISP "a"/],
      // an address the gateway reports on an interface (its LAN address) is its own
      [{ address: "100.64.10.1" }, "address", /is gateway "gw-a"'s own address on eth0/],
      [{}, "port", /is already used: virtual service "web" has 203.0.113.80 tcp port 80/],
      [
        { port: 443, realServers: [{ address: "100.64.10.2", port: 8443, mode: "dr" }] },
        "realServers.0.port",
        /cannot map ports in direct routing \(DR\) mode/,
      ],
      [
        { port: 443, realServers: [{ address: "192.0.2.7", mode: "dr" }] },
        "realServers.0.address",
        /is on no subnet of gateway "gw-a"'s interfaces \(eth0 100.64.10.1\/24, eth1 198.51.100.2\/24\)/,
      ],
    ];
    for (const [over, path, message] of cases) {
      const r = await refusal(op.virtualService.create({ clusterId, fields: web({ name: "other", ...over }) }));
      expect(r.code, JSON.stringify(over)).toBe("BAD_REQUEST");
      const issue = r.issues.find((i) => i.path.join(".") === path);
      expect(issue?.message, `${JSON.stringify(over)}: ${JSON.stringify(r.issues)}`).toMatch(message);
    }
    // DR to a server on the gateway's LAN is fine
    const dr = await op.virtualService.create({
      clusterId,
      fields: web({ name: "dr", port: 443, realServers: [{ address: "100.64.10.4", mode: "dr", weight: 2 }] }),
    });
    await op.virtualService.delete({ clusterId, id: dr.entity.id, version: dr.version });
    expect(await count()).toBe(before);
    expect(await h.db.auditEvent.count()).toBe(audits + 2);
  });

  it("refuses hostile input at the boundary", async () => {
    const op = h.as("operator");
    const before = await count();
    const hostile: unknown[] = [
      null,
      "web",
      [],
      { ...web({ name: "x" }), realServers: "100.64.10.2" },
      { ...web({ name: "x" }), realServers: Array.from({ length: 65 }, (_, i) => ({ address: `100.64.11.${i + 1}` })) },
      { ...web({ name: "x" }), port: 70000 },
      { ...web({ name: "x" }), port: "80; drop" },
      { ...web({ name: "x" }), persistenceSeconds: -1 },
      { ...web({ name: "x" }), name: "a\u0000b" },
      { ...web({ name: "x" }), healthCheck: { kind: "http", path: "/a b\r\nHost: evil" } },
      { ...web({ name: "x" }), sorryServer: { address: "203.0.113.80" } },
      JSON.parse('{"__proto__": {"admin": true}, "name": "x"}'),
    ];
    for (const fields of hostile) {
      const r = await refusal(op.virtualService.create({ clusterId, fields: fields as never }));
      expect(r.code, JSON.stringify(fields)).toBe("BAD_REQUEST");
    }
    const id = (await op.virtualService.list({ clusterId }))[0]?.entity.id as string;
    expect(
      (await refusal(op.virtualService.setRealServerState({ clusterId, id, version: 1, index: 5, state: "draining" })))
        .code,
    ).toBe("BAD_REQUEST");
    expect(
      (await refusal(op.virtualService.update({ clusterId, id: "no-such", version: 1, fields: web() }))).code,
    ).toBe("NOT_FOUND");
    expect(await count()).toBe(before);
  });

  it("drains one real server through the draft, audited with before and after", async () => {
    const op = h.as("operator");
    const [row] = await op.virtualService.list({ clusterId });
    if (!row) throw new Error("no service");
    const drained = await op.virtualService.setRealServerState({
      clusterId,
      id: row.entity.id,
      version: row.version,
      index: 1,
      state: "draining",
    });
    expect(drained.version).toBe(row.version + 1);
    expect(drained.entity.realServers.map((r) => r.state)).toEqual(["enabled", "draining"]);
    const event = await h.db.auditEvent.findFirst({
      where: { action: "virtual_service.update", targetId: row.entity.id },
      orderBy: { seq: "desc" },
      select: { before: true, after: true },
    });
    expect(JSON.parse(event?.before ?? "{}").realServers[1].state).toBe("enabled");
    expect(JSON.parse(event?.after ?? "{}").realServers[1].state).toBe("draining");
    // the old version is stale now
    const stale = await refusal(
      op.virtualService.setRealServerState({
        clusterId,
        id: row.entity.id,
        version: row.version,
        index: 1,
        state: "enabled",
      }),
    );
    expect(stale.code).toBe("CONFLICT");
  });

  it("lets only one of two concurrent edits of the same version win", async () => {
    const op = h.as("operator");
    const [row] = await op.virtualService.list({ clusterId });
    if (!row) throw new Error("no service");
    const edits = await Promise.allSettled([
      op.virtualService.update({
        clusterId,
        id: row.entity.id,
        version: row.version,
        fields: { ...row.entity, persistenceSeconds: 300 },
      }),
      op.virtualService.update({
        clusterId,
        id: row.entity.id,
        version: row.version,
        fields: { ...row.entity, scheduler: "sh" },
      }),
    ]);
    const won = edits.filter((e) => e.status === "fulfilled");
    const lost = edits.filter((e): e is PromiseRejectedResult => e.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({ code: "CONFLICT" });
    const now = await op.virtualService.get({ clusterId, id: row.entity.id });
    expect(now.version).toBe(row.version + 1);
    // exactly one of the two changes is stored, never a mix
    const one = now.entity.persistenceSeconds === 300 ? "persistence" : now.entity.scheduler === "sh" ? "sh" : "none";
    expect(one === "persistence" ? now.entity.scheduler : now.entity.persistenceSeconds).toBe(
      one === "persistence" ? "wrr" : 0,
    );
    expect(one).not.toBe("none");
  });

  it("keeps each gateway's last report of real server health and traffic", async () => {
    const op = h.as("operator");
    const [row] = await op.virtualService.list({ clusterId });
    if (!row) throw new Error("no service");
    const traffic = {
      connections: 10,
      packetsIn: 100,
      packetsOut: 90,
      bytesIn: 10_000,
      bytesOut: 90_000,
      connectionsPerSecond: 2.5,
      packetsInPerSecond: 20,
      packetsOutPerSecond: 18,
      active: 3,
      inactive: 1,
    };
    await recordAgentStatus(
      h.db,
      TEST_META,
      agentToken,
      report([
        {
          serviceId: row.entity.id,
          realServers: [
            { address: "100.64.10.2", port: 8080, health: "up", since: null, lastError: "", traffic },
            { address: "100.64.10.3", port: 8080, health: "down", since: null, lastError: "connection refused" },
          ],
        },
      ]),
    );
    const status = await h.as("viewer").virtualService.status({ clusterId });
    expect(status).toHaveLength(1);
    expect(status[0]).toMatchObject({ gatewayName: "gw-a", online: true });
    expect(status[0]?.services[0]?.realServers.map((r) => r.health)).toEqual(["up", "down"]);
    expect(status[0]?.services[0]?.realServers[0]?.traffic).toEqual(traffic);
    // a report without virtual services clears them
    await recordAgentStatus(h.db, TEST_META, agentToken, report(undefined));
    expect((await op.virtualService.status({ clusterId }))[0]?.services).toEqual([]);
  });

  it("simulates an inbound connection: the service, the hashed real server, DNAT and FULLNAT", async () => {
    const op = h.as("operator");
    const created = await op.virtualService.create({
      clusterId,
      fields: web({ name: "ssh", port: 22, scheduler: "sh", fullNat: true }),
    });
    const viewer = h.as("viewer");
    const sim = await viewer.draft.simulateInbound({
      clusterId,
      packet: { src: "192.0.2.55", dst: "203.0.113.80", dstPort: 22, protocol: "tcp" },
    });
    expect(sim.outcome).toBe("real-server");
    expect(sim.service?.name).toBe("ssh");
    expect(["100.64.10.2", "100.64.10.3"]).toContain(sim.realServer?.address);
    expect(sim.dnat).toBe(`${sim.realServer?.address}:8080`);
    expect(sim.snat).toMatch(/gateway's own address/);
    // the same client always gets the same server
    const again = await viewer.draft.simulateInbound({
      clusterId,
      packet: { src: "192.0.2.55", srcPort: 40000, dst: "203.0.113.80", dstPort: 22, protocol: "tcp" },
    });
    expect(again.realServer).toEqual(sim.realServer);
    const none = await viewer.draft.simulateInbound({
      clusterId,
      packet: { src: "192.0.2.55", dst: "203.0.113.80", dstPort: 23, protocol: "tcp" },
    });
    expect(none.outcome).toBe("no-service");
    const bad = await refusal(
      viewer.draft.simulateInbound({
        clusterId,
        packet: { src: "192.0.2.300", dst: "203.0.113.80", dstPort: 22, protocol: "tcp" },
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    await op.virtualService.delete({ clusterId, id: created.entity.id, version: created.version });
  });

  it("creates a service chosen by the operator's fwmark, refuses DR and Gatehouse's bits for it, and simulates it", async () => {
    const op = h.as("operator");
    const marked = (over: Record<string, unknown> = {}) =>
      web({
        name: "marked",
        address: null,
        fwmark: { value: 0x10000000, mask: 0xf0000000 },
        protocol: "any",
        port: null,
        ...over,
      });
    const dr = await refusal(
      op.virtualService.create({
        clusterId,
        fields: marked({ realServers: [{ address: "100.64.10.2", mode: "dr" }] }),
      }),
    );
    expect(dr.issues).toContainEqual({
      path: ["realServers", 0, "mode"],
      message:
        "real server 1 mode cannot be direct routing (DR) in a service chosen by fwmark: DR forwards packets at priority raw (-300), before the operator's rules can set the mark; use NAT",
    });
    const ours = await refusal(
      op.virtualService.create({ clusterId, fields: marked({ fwmark: { value: 1, mask: 0xff } }) }),
    );
    expect(ours.code).toBe("BAD_REQUEST");
    expect(JSON.stringify(ours.issues)).toContain("uses bits Gatehouse writes itself");
    expect(await count()).toBe(1);

    const created = await op.virtualService.create({ clusterId, fields: marked() });
    expect(created.entity).toMatchObject({ address: null, fwmark: { value: 0x10000000, mask: 0xf0000000 } });
    const viewer = h.as("viewer");
    // any address: the packet's mark chooses the service
    const sim = await viewer.draft.simulateInbound({
      clusterId,
      packet: { src: "192.0.2.55", dst: "203.0.113.99", dstPort: 443, protocol: "tcp", mark: 0x10000000 },
    });
    expect(sim.outcome).toBe("real-server");
    expect(sim.summary).toMatch(/^Virtual service "marked" \(chosen by fwmark 0x10000000\/0xf0000000\)/);
    expect(sim.candidates).toEqual(["100.64.10.3:8080", "100.64.10.2:8080"]);
    const unmarked = await viewer.draft.simulateInbound({
      clusterId,
      packet: { src: "192.0.2.55", dst: "203.0.113.99", dstPort: 443, protocol: "tcp" },
    });
    expect(unmarked.outcome).toBe("no-service");
    await op.virtualService.delete({ clusterId, id: created.entity.id, version: created.version });
  });

  it("deletes with the current version only", async () => {
    const op = h.as("operator");
    const [row] = await op.virtualService.list({ clusterId });
    if (!row) throw new Error("no service");
    expect((await refusal(op.virtualService.delete({ clusterId, id: row.entity.id, version: 1 }))).code).toBe(
      "CONFLICT",
    );
    await op.virtualService.delete({ clusterId, id: row.entity.id, version: row.version });
    expect(await count()).toBe(0);
    const event = await h.db.auditEvent.findFirst({
      where: { action: "virtual_service.delete", targetId: row.entity.id },
      select: { before: true },
    });
    expect(JSON.parse(event?.before ?? "{}")).toMatchObject({ name: "web" });
  });

  it("counts a virtual service alone as a change to publish, and publishes it", async () => {
    const op = h.as("operator");
    let status = await op.draft.summary({ clusterId });
    if (status.dirty) {
      await op.draft.publish({ clusterId, message: "uplink", draftVersion: status.draftVersion });
    }
    expect((await op.draft.summary({ clusterId })).dirty).toBe(false);
    const created = await op.virtualService.create({ clusterId, fields: web({ name: "pub" }) });
    status = await op.draft.summary({ clusterId });
    expect(status).toMatchObject({ dirty: true, summary: { added: 1, total: 1 } });
    // the change list says what is added, in words
    const changes = await op.draft.changes({ clusterId });
    expect(changes.virtualServices.map((c) => [c.name, c.change])).toEqual([['virtual service "pub"', "added"]]);
    const fields = new Map(changes.virtualServices[0]?.fields.map((f) => [f.path, f.after]));
    expect(fields.get("realServers")).toBe("100.64.10.2:8080 weight 1 NAT, 100.64.10.3:8080 weight 2 NAT");
    expect(fields.get("scheduler")).toBe("wrr (weighted round robin)");
    expect(fields.get("healthCheck")).toBe("none");
    const published = await op.draft.publish({ clusterId, message: "web", draftVersion: status.draftVersion });
    const diff = await op.revision.diff({ clusterId, from: published.number - 1, to: published.number });
    expect(diff.virtualServices?.map((c) => [c.name, c.change])).toEqual([['virtual service "pub"', "added"]]);
    expect((await op.draft.summary({ clusterId })).dirty).toBe(false);
    await op.virtualService.delete({ clusterId, id: created.entity.id, version: created.version });
  });

  it("refuses to publish when an edit elsewhere took a service's address, and says so before", async () => {
    const op = h.as("operator");
    const created = await op.virtualService.create({
      clusterId,
      fields: web({ name: "late", address: "198.51.100.90" }),
    });
    const [isp] = await op.isp.list({ clusterId });
    const pool = await op.pool.create({
      clusterId,
      fields: { name: "grows", ispId: isp?.entity.id as string, addresses: ["198.51.100.88/29"] },
    });
    const problem = 'virtual service "late": virtual address is an address of pool "grows"';
    expect((await op.draft.changes({ clusterId })).problems.join("\n")).toContain(problem);
    const { draftVersion } = await op.draft.summary({ clusterId });
    const refused = await refusal(op.draft.publish({ clusterId, message: "both", draftVersion }));
    expect(refused.code).toBe("BAD_REQUEST");
    expect(refused.message).toContain(problem);
    await op.pool.delete({ clusterId, id: pool.entity.id, version: pool.version });
    await op.virtualService.delete({ clusterId, id: created.entity.id, version: created.version });
  });

  it("streams the gateways' reports to a viewer live", async () => {
    const stream = await h.as("viewer").virtualService.live({ clusterId });
    const it = stream[Symbol.asyncIterator]();
    const first = (await it.next()).value;
    expect(first?.map((g) => g.gatewayName)).toEqual(["gw-a"]);
    await recordAgentStatus(
      h.db,
      TEST_META,
      agentToken,
      report([
        {
          serviceId: "svc-live",
          realServers: [{ address: "100.64.10.7", port: 80, health: "down", since: null, lastError: "timeout" }],
        },
      ]),
    );
    // the stream reads again on every report it hears of, and at least once a second
    let seen = false;
    for (let i = 0; i < 5 && !seen; i++) {
      const next = (await it.next()).value;
      seen = next?.[0]?.services[0]?.realServers[0]?.lastError === "timeout";
    }
    expect(seen).toBe(true);
    await it.return?.();
  });
});

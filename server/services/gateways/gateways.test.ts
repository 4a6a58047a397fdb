import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_AFTER_SECONDS, type StatusReport } from "../../../core/protocol/agent-api";
import { verifyAuditChain } from "../audit/verify";
import { createGateway, deleteGateway, getGateway, listGateways, revokeGateway, rotateGatewayToken } from "./gateways";
import { handleDesired, handleEnroll, handleStatus } from "../../http/agent-api";
import {
  type GatewayTestDb,
  gatewayTestDb,
  makeCluster,
  makeUser,
  META,
  publishChange,
} from "../../../testkit/server/gateways";
import { hashToken } from "./tokens";

let t: GatewayTestDb;
let admin: Awaited<ReturnType<typeof makeUser>>;
let clusterId: string;
let poolId: string;

beforeAll(async () => {
  t = await gatewayTestDb();
  admin = await makeUser(t.db, "root", "admin");
  ({ clusterId, poolId } = await makeCluster(t.db, admin));
});
afterAll(async () => {
  await t?.close();
});

const BASE = "http://console.test/api/agent/v1";
const FACTS = { hostname: "gw-a", kernel: "6.1.0", nftVersion: "1.0.6", interfaces: [] };

function enrollRequest(token: string, body: unknown = { agentVersion: "1.2.3", facts: FACTS }) {
  return new Request(`${BASE}/enroll`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

function statusRequest(token: string, body: unknown) {
  return new Request(`${BASE}/status`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const desiredRequest = (token: string, have: string, signal?: AbortSignal) =>
  new Request(`${BASE}/desired?have=${encodeURIComponent(have)}`, {
    headers: { authorization: `Bearer ${token}` },
    signal,
  });

async function enroll(enrollToken: string): Promise<string> {
  const res = await handleEnroll(t.db, enrollRequest(enrollToken));
  expect(res.status).toBe(200);
  return ((await res.json()) as { agentToken: string }).agentToken;
}

let nameCounter = 0;
async function newGateway() {
  return createGateway(t.db, admin, META, { clusterId, name: `gw-${++nameCounter}`, address: "203.0.113.5" });
}

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return { agentVersion: "1.2.3", running: null, lastApply: null, facts: FACTS, ...overrides };
}

describe("adding a gateway and enrolling its agent", () => {
  it("shows the enrollment token once, stores only its hash, and lets it expire in 24 hours", async () => {
    const before = Date.now();
    const gw = await newGateway();
    expect(gw.enrollToken).toMatch(/^ghe_[A-Za-z0-9_-]{43}$/);
    const row = await t.db.gateway.findUniqueOrThrow({ where: { id: gw.id } });
    expect(row.enrollTokenHash).toBe(hashToken(gw.enrollToken));
    expect(JSON.stringify(row)).not.toContain(gw.enrollToken);
    const hours = (row.enrollExpiresAt?.getTime() ?? 0 - before) / 3600_000;
    expect(hours).toBeGreaterThan(0);
    expect((row.enrollExpiresAt?.getTime() ?? 0) - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect((row.enrollExpiresAt?.getTime() ?? 0) - before).toBeLessThanOrEqual(24 * 3600_000 + 5000);
    const listed = (await listGateways(t.db, clusterId)).gateways.find((g) => g.id === gw.id);
    expect(listed?.connection).toBe("awaiting_enrollment");
    expect(JSON.stringify(listed)).not.toMatch(/tokenHash|ghe_/);
    const events = await t.db.auditEvent.findMany({ where: { action: "gateway.create", targetId: gw.id } });
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(gw.enrollToken);
  });

  it("trades the enrollment token for an agent token exactly once", async () => {
    const gw = await newGateway();
    const res = await handleEnroll(t.db, enrollRequest(gw.enrollToken));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ gatewayId: gw.id, gatewayName: gw.name, clusterId, clusterName: "lab" });
    expect(body.agentToken).toMatch(/^gha_/);
    const row = await t.db.gateway.findUniqueOrThrow({ where: { id: gw.id } });
    expect(row.tokenHash).toBe(hashToken(body.agentToken ?? ""));
    expect(row.enrollTokenHash).toBeNull();
    expect(row.agentVersion).toBe("1.2.3");
    expect(JSON.parse(row.facts)).toMatchObject({ hostname: "gw-a" });

    const again = await handleEnroll(t.db, enrollRequest(gw.enrollToken));
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toMatch(/unknown or was already used/);
    const enrollEvents = await t.db.auditEvent.findMany({ where: { action: "gateway.enroll", targetId: gw.id } });
    expect(enrollEvents.map((e) => e.actorType)).toEqual(["agent"]);
  });

  it("refuses an expired enrollment token and says so", async () => {
    const gw = await newGateway();
    await t.db.gateway.update({ where: { id: gw.id }, data: { enrollExpiresAt: new Date(Date.now() - 1000) } });
    const res = await handleEnroll(t.db, enrollRequest(gw.enrollToken));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/expired/);
    expect((await getGateway(t.db, gw.id)).connection).toBe("enrollment_expired");
  });

  it("lets only one of two agents racing with the same token enroll", async () => {
    const gw = await newGateway();
    const results = await Promise.all([
      handleEnroll(t.db, enrollRequest(gw.enrollToken)),
      handleEnroll(t.db, enrollRequest(gw.enrollToken)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("answers 401 to a missing or malformed token, with a reason", async () => {
    for (const auth of [undefined, "Bearer", "Basic abc", "Bearer gha_short", `Bearer gha_${"a".repeat(43)}`]) {
      const res = await handleStatus(
        t.db,
        new Request(`${BASE}/status`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify(report()),
        }),
      );
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await res.json()) as { error: string }).error.length).toBeGreaterThan(10);
    }
  });
});

describe("rotation and revocation", () => {
  it("keeps the running agent's token valid until it enrolls with the rotated token", async () => {
    const gw = await newGateway();
    const first = await enroll(gw.enrollToken);
    const rotated = await rotateGatewayToken(t.db, admin, META, { id: gw.id, revokeCurrent: false });
    expect(rotated.enrollToken).not.toBe(gw.enrollToken);
    expect((await handleStatus(t.db, statusRequest(first, report()))).status).toBe(200);

    const second = await enroll(rotated.enrollToken);
    expect(second).not.toBe(first);
    expect((await handleStatus(t.db, statusRequest(first, report()))).status).toBe(401);
    expect((await handleStatus(t.db, statusRequest(second, report()))).status).toBe(200);
    const enrollEvents = await t.db.auditEvent.findMany({ where: { action: "gateway.enroll", targetId: gw.id } });
    expect(JSON.parse(enrollEvents.at(-1)?.after ?? "{}")).toMatchObject({ replacedAgentToken: true });
  });

  it("cuts the agent off at once when asked to revoke the current token", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const rotated = await rotateGatewayToken(t.db, admin, META, { id: gw.id, revokeCurrent: true });
    expect((await handleStatus(t.db, statusRequest(token, report()))).status).toBe(401);
    expect((await handleDesired(t.db, desiredRequest(token, "none"))).status).toBe(401);
    await enroll(rotated.enrollToken);
  });

  it("invalidates an unused enrollment token when a new one is issued", async () => {
    const gw = await newGateway();
    await rotateGatewayToken(t.db, admin, META, { id: gw.id, revokeCurrent: false });
    expect((await handleEnroll(t.db, enrollRequest(gw.enrollToken))).status).toBe(401);
  });

  it("revokes every credential; revoking twice is a conflict", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    await revokeGateway(t.db, admin, META, { id: gw.id });
    expect((await handleStatus(t.db, statusRequest(token, report()))).status).toBe(401);
    expect((await getGateway(t.db, gw.id)).connection).toBe("revoked");
    await expect(revokeGateway(t.db, admin, META, { id: gw.id })).rejects.toMatchObject({ code: "CONFLICT" });
    const actions = (await t.db.auditEvent.findMany({ where: { targetId: gw.id }, orderBy: { seq: "asc" } })).map(
      (e) => e.action,
    );
    expect(actions).toEqual(["gateway.create", "gateway.enroll", "gateway.revoke"]);
  });

  it("deletes a gateway and its token stops working", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    await deleteGateway(t.db, admin, META, { id: gw.id });
    expect((await handleStatus(t.db, statusRequest(token, report()))).status).toBe(401);
    await expect(getGateway(t.db, gw.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses a second gateway of the same name in a cluster", async () => {
    const gw = await newGateway();
    await expect(createGateway(t.db, admin, META, { clusterId, name: gw.name, address: "" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });
});

describe("long poll for the desired state", () => {
  it("waits while nothing was published, then answers 204", async () => {
    const other = await makeCluster(t.db, admin, "empty");
    const gw = await createGateway(t.db, admin, META, { clusterId: other.clusterId, name: "lonely", address: "" });
    const token = await enroll(gw.enrollToken);
    const started = Date.now();
    const res = await handleDesired(t.db, desiredRequest(token, "none"), { longPollMs: 300, recheckMs: 100 });
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("answers at once with the compiled spec when the agent is behind, and 204 after the timeout when not", async () => {
    const rev = await publishChange(t.db, admin, clusterId, poolId);
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const started = Date.now();
    const res = await handleDesired(t.db, desiredRequest(token, "none"), { longPollMs: 5000 });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const { spec } = (await res.json()) as { spec: Record<string, unknown> };
    // every gateway added so far advanced the epoch (it moves pool slices)
    const { failoverEpoch: epoch } = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    expect(spec).toMatchObject({
      specVersion: 1,
      revision: rev,
      failoverEpoch: epoch,
      gatewayId: gw.id,
      gatewayName: gw.name,
    });

    const same = await handleDesired(t.db, desiredRequest(token, `${rev}.${epoch}`), {
      longPollMs: 200,
      recheckMs: 50,
    });
    expect(same.status).toBe(204);
    const stale = await handleDesired(t.db, desiredRequest(token, `${rev - 1}.${epoch}`), { longPollMs: 5000 });
    expect(stale.status).toBe(200);
  });

  it("wakes a waiting agent as soon as a new revision is published", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const current = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    // a DB re-check every 10 s: only the notifier can wake it within the test's bound
    const waiting = handleDesired(
      t.db,
      desiredRequest(token, `${current.publishedRevision}.${current.failoverEpoch}`),
      {
        longPollMs: 10_000,
        recheckMs: 10_000,
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    const publishedAt = Date.now();
    const rev = await publishChange(t.db, admin, clusterId, poolId);
    const res = await waiting;
    const latency = Date.now() - publishedAt;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { spec: { revision: number } }).spec.revision).toBe(rev);
    expect(latency).toBeLessThan(1000);
  });

  it("notices a change made by another console replica by re-reading the database", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const cluster = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    const have = `${cluster.publishedRevision}.${cluster.failoverEpoch}`;
    const waiting = handleDesired(t.db, desiredRequest(token, have), { longPollMs: 5000, recheckMs: 100 });
    await new Promise((r) => setTimeout(r, 150));
    // a failover elsewhere: no notification reaches this process
    await t.db.cluster.update({ where: { id: clusterId }, data: { failoverEpoch: { increment: 1 } } });
    const changedAt = Date.now();
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(((await res.json()) as { spec: { failoverEpoch: number } }).spec.failoverEpoch).toBe(
      cluster.failoverEpoch + 1,
    );
  });

  it("re-slices the pools when a gateway joins or leaves: the other gateways' waiting polls get their new spec", async () => {
    const { clusterId: cid, poolId: pid } = await makeCluster(t.db, admin, "slices");
    await publishChange(t.db, admin, cid, pid);
    const first = await createGateway(t.db, admin, META, { clusterId: cid, name: "gw-one", address: "" });
    const token = await enroll(first.enrollToken);
    const fetchSpec = async (have: string, opts = { longPollMs: 5000, recheckMs: 10_000 }) => {
      const res = await handleDesired(t.db, desiredRequest(token, have), opts);
      expect(res.status).toBe(200);
      return (
        (await res.json()) as {
          spec: { revision: number; failoverEpoch: number; pools: Array<{ addresses: string[] }> };
        }
      ).spec;
    };
    const alone = await fetchSpec("none");
    const whole = alone.pools[0]?.addresses ?? [];
    expect(whole).toHaveLength(64);
    const keyOf = (s: { revision: number; failoverEpoch: number }) => `${s.revision}.${s.failoverEpoch}`;

    // a DB re-check every 10 s: the notifier wakes the poll when the second gateway is added
    const waiting = fetchSpec(keyOf(alone));
    await new Promise((r) => setTimeout(r, 100));
    const second = await createGateway(t.db, admin, META, { clusterId: cid, name: "gw-two", address: "" });
    const shared = await waiting;
    expect(shared.failoverEpoch).toBe(alone.failoverEpoch + 1);
    const mine = shared.pools[0]?.addresses ?? [];
    expect(mine.length).toBe(32);
    expect(mine.every((a) => whole.includes(a))).toBe(true);

    // the newcomer's slice is the rest of the pool
    const secondToken = await enroll(second.enrollToken);
    const res = await handleDesired(t.db, desiredRequest(secondToken, "none"), { longPollMs: 5000 });
    const theirs =
      ((await res.json()) as { spec: { pools: Array<{ addresses: string[] }> } }).spec.pools[0]?.addresses ?? [];
    expect([...mine, ...theirs].sort()).toEqual([...whole].sort());

    // the second one leaves: the first gets the whole pool back
    const waitingAgain = fetchSpec(keyOf(shared));
    await new Promise((r) => setTimeout(r, 100));
    await deleteGateway(t.db, admin, META, { id: second.id });
    const back = await waitingAgain;
    expect(back.pools[0]?.addresses).toEqual(whole);
  });

  it("ends a waiting poll with 401 once the token is revoked", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const cluster = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    const have = `${cluster.publishedRevision}.${cluster.failoverEpoch}`;
    const waiting = handleDesired(t.db, desiredRequest(token, have), { longPollMs: 5000, recheckMs: 50 });
    await new Promise((r) => setTimeout(r, 80));
    await revokeGateway(t.db, admin, META, { id: gw.id });
    expect((await waiting).status).toBe(401);
  });

  it("stops waiting when the agent hangs up", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const cluster = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    const hangup = new AbortController();
    const have = `${cluster.publishedRevision}.${cluster.failoverEpoch}`;
    const started = Date.now();
    const waiting = handleDesired(t.db, desiredRequest(token, have, hangup.signal), {
      longPollMs: 10_000,
      recheckMs: 10_000,
    });
    setTimeout(() => hangup.abort(), 50);
    expect((await waiting).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("rejects a malformed have parameter with 400", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    for (const have of ["1", "a.b", "1.2.3", "-1.0", "1.0 ", "9999999999.0"]) {
      const res = await handleDesired(t.db, desiredRequest(token, have), { longPollMs: 10 });
      expect(res.status, have).toBe(400);
    }
  });
});

describe("status reports", () => {
  const applied = (revision: number, at: string, ok = true, error = "") => ({
    revision,
    failoverEpoch: 0,
    ok,
    error,
    at,
    durationsMs: { totalMs: 12.5 },
  });

  it("records the apply result once, not on every heartbeat that repeats it", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const count = () => t.db.auditEvent.count({ where: { action: "gateway.apply", targetId: gw.id } });

    const ok1 = report({
      running: { revision: 3, failoverEpoch: 0 },
      lastApply: applied(3, "2030-01-01T00:00:00.000Z"),
    });
    const res = await handleStatus(t.db, statusRequest(token, ok1));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, heartbeatSeconds: 15 });
    expect(await count()).toBe(1);
    for (let i = 0; i < 3; i++) expect((await handleStatus(t.db, statusRequest(token, ok1))).status).toBe(200);
    expect(await count()).toBe(1);

    const failed = report({
      running: { revision: 3, failoverEpoch: 0 },
      lastApply: applied(4, "2030-01-01T00:01:00.000Z", false, "check: /tmp/x.nft:3:1-4: Error: syntax error"),
    });
    await handleStatus(t.db, statusRequest(token, failed));
    await handleStatus(t.db, statusRequest(token, failed));
    expect(await count()).toBe(2);
    const events = await t.db.auditEvent.findMany({
      where: { action: "gateway.apply", targetId: gw.id },
      orderBy: { seq: "asc" },
    });
    expect(events.map((e) => e.actorType)).toEqual(["agent", "agent"]);
    expect(JSON.parse(events[1]?.after ?? "{}")).toMatchObject({
      ok: false,
      revision: 4,
      error: expect.stringMatching(/syntax error/),
    });

    const g = await getGateway(t.db, gw.id);
    expect(g).toMatchObject({ appliedRevision: 3, lastApplyOk: false, connection: "online", sync: "apply_failed" });
    expect(g.lastApplyError).toMatch(/syntax error/);

    // the same failure retried later with the same error is not news
    await handleStatus(
      t.db,
      statusRequest(token, { ...failed, lastApply: { ...failed.lastApply, at: "2030-01-01T00:02:00.000Z" } }),
    );
    expect(await count()).toBe(2);
    expect((await verifyAuditChain(t.db)).intact).toBe(true);
  });

  it("keeps the operator ip rules that override Gatehouse's and raises an audit alert when they appear and clear", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const events = () =>
      t.db.auditEvent.findMany({
        where: { action: "gateway.ip_rule_conflicts", targetId: gw.id },
        orderBy: { seq: "asc" },
      });
    const conflict = { priority: 100, rule: "from 100.64.3.0/24 lookup 300", before: 101 };
    const check = (conflicts: (typeof conflict)[], at: string) => ({ checkedAt: at, conflicts, error: "" });
    await handleStatus(t.db, statusRequest(token, report({ ipRules: check([], "2030-01-01T00:00:00.000Z") })));
    expect(await events()).toHaveLength(0);
    const found = report({ ipRules: check([conflict], "2030-01-01T00:00:05.000Z") });
    for (let i = 0; i < 3; i++) expect((await handleStatus(t.db, statusRequest(token, found))).status).toBe(200);
    expect((await events()).map((e) => JSON.parse(e.after ?? "{}").conflicts)).toEqual([[conflict]]);
    const g = await getGateway(t.db, gw.id);
    expect((g.facts as { ipRules?: unknown }).ipRules).toMatchObject({ conflicts: [conflict] });
    await handleStatus(t.db, statusRequest(token, report({ ipRules: check([], "2030-01-01T00:00:10.000Z") })));
    expect((await events()).map((e) => JSON.parse(e.after ?? "{}").conflicts)).toEqual([[conflict], []]);
    // a report without the check (an older agent) leaves what was known alone
    await handleStatus(t.db, statusRequest(token, report()));
    expect(await events()).toHaveLength(2);
    expect(((await getGateway(t.db, gw.id)).facts as { ipRules?: unknown }).ipRules).toMatchObject({ conflicts: [] });
  });

  it("stores health and facts and marks the gateway offline after three missed heartbeats", async () => {
    const gw = await newGateway();
    const token = await enroll(gw.enrollToken);
    const health = { "isp-a": { state: "up", lossPct: 0, rttMs: 1.2 } };
    const facts = {
      ...FACTS,
      interfaces: [{ name: "eth1", state: "UP", mac: "", mtu: 1500, addresses: ["198.51.100.2/24"] }],
    };
    expect((await handleStatus(t.db, statusRequest(token, report({ health, facts })))).status).toBe(200);
    const g = await getGateway(t.db, gw.id);
    expect(g.health).toEqual(health);
    expect(g.facts).toMatchObject({ interfaces: [{ name: "eth1", addresses: ["198.51.100.2/24"] }] });
    const later = new Date(Date.now() + (OFFLINE_AFTER_SECONDS + 1) * 1000);
    expect((await getGateway(t.db, gw.id, later)).connection).toBe("offline");
  });
});

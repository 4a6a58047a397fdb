import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../services/auth/roles";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser } from "../../../testkit/server/gateways";
import { callerAs as signedIn } from "../../../testkit/server/api";

let t: GatewayTestDb;
let clusterId: string;
const users: Partial<Record<Role, Awaited<ReturnType<typeof makeUser>>>> = {};

beforeAll(async () => {
  t = await gatewayTestDb();
  for (const role of ["viewer", "operator", "admin"] as const) users[role] = await makeUser(t.db, `u-${role}`, role);
  ({ clusterId } = await makeCluster(t.db, users.admin as NonNullable<typeof users.admin>));
});
afterAll(async () => {
  await t?.close();
});

function callerAs(role: Role) {
  const u = users[role];
  if (!u) throw new Error("no user");
  return signedIn(t.db, u);
}

const forbidden = { code: "FORBIDDEN" } satisfies Partial<TRPCError>;

describe("gateway router roles", () => {
  it("lets an admin manage gateways and shows the enrollment token only in the create answer", async () => {
    const admin = callerAs("admin");
    const created = await admin.gateway.create({ clusterId, name: "gw-admin", address: "gw1.example.net" });
    expect(created.enrollToken).toMatch(/^ghe_/);
    const listed = await admin.gateway.list({ clusterId });
    const row = listed.gateways.find((g) => g.id === created.id);
    expect(row).toMatchObject({ name: "gw-admin", address: "gw1.example.net", connection: "awaiting_enrollment" });
    expect(JSON.stringify(listed)).not.toContain(created.enrollToken);
    expect(listed.heartbeatSeconds).toBe(15);

    const rotated = await admin.gateway.rotateToken({ id: created.id });
    expect(rotated.enrollToken).not.toBe(created.enrollToken);
    await admin.gateway.revoke({ id: created.id });
    expect((await admin.gateway.get({ id: created.id })).connection).toBe("revoked");
    await admin.gateway.delete({ id: created.id });
    await expect(admin.gateway.get({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lets viewers and operators read but not manage", async () => {
    const gw = await callerAs("admin").gateway.create({ clusterId, name: "gw-read", address: "" });
    for (const role of ["viewer", "operator"] as const) {
      const c = callerAs(role);
      expect((await c.gateway.list({ clusterId })).gateways.map((g) => g.name)).toContain("gw-read");
      expect((await c.gateway.get({ id: gw.id })).name).toBe("gw-read");
      await expect(c.gateway.create({ clusterId, name: `gw-${role}`, address: "" })).rejects.toMatchObject(forbidden);
      await expect(c.gateway.rotateToken({ id: gw.id })).rejects.toMatchObject(forbidden);
      await expect(c.gateway.revoke({ id: gw.id })).rejects.toMatchObject(forbidden);
      await expect(c.gateway.delete({ id: gw.id })).rejects.toMatchObject(forbidden);
    }
    expect(await t.db.gateway.count({ where: { name: { in: ["gw-viewer", "gw-operator"] } } })).toBe(0);
    expect((await callerAs("admin").gateway.get({ id: gw.id })).enrollmentPending).toBe(true);
  });

  it("rejects bad input with field messages", async () => {
    const admin = callerAs("admin");
    await expect(admin.gateway.create({ clusterId, name: "", address: "" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      admin.gateway.create({ clusterId, name: "ok", address: "not an address; rm -rf" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(admin.gateway.create({ clusterId: "nope", name: "ok", address: "" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("refuses callers without a session", async () => {
    const anonymous = signedIn(t.db, null, { csrf: null });
    await expect(anonymous.gateway.list({ clusterId })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

import { createHash, randomBytes } from "node:crypto";
import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { overrideGatewaySshDeps } from "../../services/gateway-ssh/deps";
import { FakeGateway, fakeBundleText } from "../../../testkit/fakes/gateway-host";
import type { Role } from "../../services/auth/roles";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser } from "../../../testkit/server/gateways";
import { fakeConnector } from "../../../testkit/fakes/ssh";
import { callerAs as signedIn } from "../../../testkit/server/api";

vi.mock("../../ssh/keys", () => ({
  privateKeyProblem: (key: string) => (key.includes("garbled") ? "Unsupported key format" : null),
}));

/**
 * Who may do what with gateways over SSH. Admins manage (enroll, credentials, host keys,
 * upgrades); operators may also run the read-only diagnostics; viewers may only follow jobs.
 */

const HOST_KEY = { algorithm: "ssh-ed25519", fingerprint: `SHA256:${"Z".repeat(43)}` };
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
let t: GatewayTestDb;
let clusterId: string;
let gatewayId = "";
let secretKey: string | undefined = randomBytes(32).toString("hex");
const users: Partial<Record<Role, Awaited<ReturnType<typeof makeUser>>>> = {};

beforeAll(async () => {
  t = await gatewayTestDb();
  for (const role of ["viewer", "operator", "admin"] as const) users[role] = await makeUser(t.db, `u-${role}`, role);
  ({ clusterId } = await makeCluster(t.db, users.admin as NonNullable<typeof users.admin>));
  const gw = new FakeGateway({
    hostKey: HOST_KEY,
    onStart: async () => {
      await t.db.gateway.updateMany({
        where: { address: "192.0.2.9" },
        data: { lastSeenAt: new Date(Date.now() + 1), agentVersion: "7.7.7" },
      });
    },
  });
  overrideGatewaySshDeps({
    connector: fakeConnector({ "192.0.2.9:22": gw }),
    bundle: async () => ({
      path: "/dev/null",
      bytes: Buffer.from(fakeBundleText("7.7.7")),
      version: "7.7.7",
      sha256: createHash("sha256").update(fakeBundleText("7.7.7")).digest("hex"),
    }),
    unitTemplate: async () => "ExecStart=x\n",
    secretKeyText: () => secretKey,
    onlineTimeoutMs: 1_000,
    onlinePollMs: 10,
  });
});
afterAll(async () => {
  overrideGatewaySshDeps(null);
  await t?.close();
});

function callerAs(role: Role) {
  const u = users[role];
  if (!u) throw new Error("no user");
  return signedIn(t.db, u);
}

const forbidden = { code: "FORBIDDEN" } satisfies Partial<TRPCError>;
const enrollInput = (name: string, extra: Record<string, unknown> = {}) => ({
  clusterId,
  name,
  host: "192.0.2.9",
  port: 22,
  username: "root",
  auth: { kind: "key" as const, privateKey: KEY },
  hostKey: HOST_KEY,
  consoleUrl: "https://console.example",
  ...extra,
});

async function waitForJob(id: string) {
  const admin = callerAs("admin");
  for (let i = 0; i < 200; i++) {
    const job = await admin.gatewaySsh.job({ id });
    if (job.state !== "running") return job;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the job did not finish");
}

describe("gatewaySsh router", () => {
  it("lets an admin read a host key and enroll a gateway, and shows the job to everyone", async () => {
    const admin = callerAs("admin");
    expect(await admin.gatewaySsh.scanHostKey({ host: "192.0.2.9", port: 22 })).toEqual(HOST_KEY);
    const { jobId } = await admin.gatewaySsh.enroll(enrollInput("gw-1"));
    const job = await waitForJob(jobId);
    expect(job.state).toBe("succeeded");
    gatewayId = job.gatewayId ?? "";
    for (const role of ["viewer", "operator"] as const) {
      expect((await callerAs(role).gatewaySsh.job({ id: jobId })).state).toBe("succeeded");
      expect((await callerAs(role).gatewaySsh.jobs({ clusterId })).map((j) => j.id)).toContain(jobId);
    }
    const info = await callerAs("viewer").gatewaySsh.info();
    expect(info).toMatchObject({ bundle: { version: "7.7.7", error: "" }, canKeepCredentials: true });
  });

  it("lets operators run diagnostics and read the SSH target, but nothing more", async () => {
    const operator = callerAs("operator");
    const d = await operator.gatewaySsh.diagnostics({ gatewayId });
    expect(d.sections.map((s) => s.key)).toContain("nft-policy");
    const access = await operator.gatewaySsh.access({ gatewayId });
    expect(access).toMatchObject({ host: "192.0.2.9", hasCredentials: true, hostKey: HOST_KEY });
    expect(JSON.stringify(access)).not.toMatch(/PRIVATE KEY|secret/);
    await expect(operator.gatewaySsh.scanHostKey({ host: "192.0.2.9", port: 22 })).rejects.toMatchObject(forbidden);
    await expect(operator.gatewaySsh.enroll(enrollInput("gw-op"))).rejects.toMatchObject(forbidden);
    await expect(operator.gatewaySsh.upgrade({ gatewayId })).rejects.toMatchObject(forbidden);
    await expect(operator.gatewaySsh.upgradeCluster({ clusterId })).rejects.toMatchObject(forbidden);
    await expect(operator.gatewaySsh.deleteCredentials({ gatewayId })).rejects.toMatchObject(forbidden);
    await expect(operator.gatewaySsh.trustHostKey({ gatewayId, hostKey: HOST_KEY })).rejects.toMatchObject(forbidden);
  });

  it("keeps viewers out of diagnostics and SSH details", async () => {
    const viewer = callerAs("viewer");
    await expect(viewer.gatewaySsh.diagnostics({ gatewayId })).rejects.toMatchObject(forbidden);
    await expect(viewer.gatewaySsh.access({ gatewayId })).rejects.toMatchObject(forbidden);
    await expect(viewer.gatewaySsh.enroll(enrollInput("gw-viewer"))).rejects.toMatchObject(forbidden);
    expect(await t.db.auditEvent.count({ where: { action: "gateway.ssh_diagnostics", actorName: "u-viewer" } })).toBe(
      0,
    );
  });

  it("rejects unsafe or unusable input with field messages", async () => {
    const admin = callerAs("admin");
    await expect(admin.gatewaySsh.enroll(enrollInput("gw-bad", { host: "-oProxyCommand=sh" }))).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(admin.gatewaySsh.enroll(enrollInput("gw-bad", { username: "root;id" }))).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      admin.gatewaySsh.enroll(enrollInput("gw-bad", { hostKey: { algorithm: "ssh-ed25519", fingerprint: "MD5:aa" } })),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      admin.gatewaySsh.enroll(enrollInput("gw-bad", { auth: { kind: "key", privateKey: `${KEY}garbled` } })),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "The private key cannot be used: Unsupported key format",
      cause: { issues: [{ path: ["auth", "privateKey"], message: "cannot be used: Unsupported key format" }] },
    });
  });

  it("names consoleUrl when it is not an http(s) URL", async () => {
    const admin = callerAs("admin");
    for (const consoleUrl of ["not a url", "http://", "ftp://console.example"]) {
      // the browser gets "Invalid input: consoleUrl must be ..." from these issues (errorFormatter)
      await expect(admin.gatewaySsh.enroll(enrollInput("gw-bad", { consoleUrl }))).rejects.toMatchObject({
        code: "BAD_REQUEST",
        cause: {
          issues: [
            expect.objectContaining({
              path: ["consoleUrl"],
              message: "must be an http:// or https:// URL, e.g. https://console.example:3000",
            }),
          ],
        },
      });
    }
  });

  it("names the field that holds a NUL or a lone surrogate", async () => {
    const admin = callerAs("admin");
    await expect(
      admin.gatewaySsh.enroll(enrollInput("gw-bad", { consoleUrl: "https://c\u0000" })),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "consoleUrl: Text must not contain NUL characters.",
    });
    await expect(
      admin.gatewaySsh.enroll(enrollInput("gw-bad", { auth: { kind: "password", password: "pw\ud800" } })),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^auth\.password: .*well-formed/) });
  });

  it("refuses to keep credentials without GATEHOUSE_SECRET_KEY, and says why", async () => {
    secretKey = undefined;
    try {
      const admin = callerAs("admin");
      await expect(admin.gatewaySsh.enroll(enrollInput("gw-nokey"))).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringContaining("GATEHOUSE_SECRET_KEY is not set"),
      });
      expect((await admin.gatewaySsh.info()).canKeepCredentials).toBe(false);
      await expect(admin.gatewaySsh.diagnostics({ gatewayId })).rejects.toThrow(/GATEHOUSE_SECRET_KEY is not set/);
    } finally {
      secretKey = randomBytes(32).toString("hex");
    }
  });
});

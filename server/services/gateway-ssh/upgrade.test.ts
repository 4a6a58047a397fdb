import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeConnector, fakeConnector } from "../../../testkit/fakes/ssh";
import type { Actor } from "../audit/record";
import { createGateway } from "../gateways/gateways";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser, META } from "../../../testkit/server/gateways";
import type { AgentBundle } from "./bundle";
import type { GatewaySshDeps } from "./deps";
import { startEnrollment } from "./enroll";
import { FakeGateway, fakeBundleText } from "../../../testkit/fakes/gateway-host";
import { getJob } from "./jobs";
import { startClusterUpgrade, startUpgrade } from "./upgrade";

vi.mock("../../ssh/keys", () => ({ privateKeyProblem: () => null }));

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
const BIN = "/usr/local/bin/gatehouse-agent";
const bundleOf = (version: string): AgentBundle => ({
  path: "/dev/null",
  bytes: Buffer.from(fakeBundleText(version)),
  version,
  sha256: createHash("sha256").update(fakeBundleText(version)).digest("hex"),
});

let t: GatewayTestDb;
let admin: Actor;
let clusterId: string;
let connector: FakeConnector;
const hosts: Record<string, FakeGateway> = {};
/** addresses whose agent does not report after a (re)start */
const silent = new Set<string>();
let current = bundleOf("1.0.0");
const ids: Record<string, string> = {};

const secret = randomBytes(32).toString("hex");
const deps = (): GatewaySshDeps => ({
  db: t.db,
  connector,
  bundle: async () => current,
  unitTemplate: async () => "ExecStart=/usr/bin/node x\n",
  secretKeyText: () => secret,
  onlineTimeoutMs: 300,
  onlinePollMs: 10,
});

function host(address: string) {
  const key = { algorithm: "ssh-ed25519", fingerprint: `SHA256:${address.replaceAll(".", "x").padEnd(43, "Q")}` };
  const gw = new FakeGateway({
    hostKey: key,
    onStart: async () => {
      if (silent.has(address)) return;
      const ran = /^fake-agent (\S+)/.exec(gw.files.get(BIN)?.toString() ?? "")?.[1] ?? "";
      await t.db.gateway.updateMany({
        where: { address },
        data: { lastSeenAt: new Date(Date.now() + 1), agentVersion: ran },
      });
    },
  });
  hosts[`${address}:22`] = gw;
  return gw;
}

beforeAll(async () => {
  t = await gatewayTestDb();
  admin = await makeUser(t.db, "admin", "admin");
  ({ clusterId } = await makeCluster(t.db, admin));
  for (const a of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) host(a);
  connector = fakeConnector(hosts);
  for (const [i, name] of ["gw-a", "gw-b", "gw-c"].entries()) {
    const address = `192.0.2.${i + 1}`;
    const started = await startEnrollment(deps(), admin, META, {
      clusterId,
      name,
      host: address,
      port: 22,
      username: "root",
      auth: { kind: "key", privateKey: KEY },
      hostKey: (hosts[`${address}:22`] as FakeGateway).hostKey,
      consoleUrl: "https://console.example",
      keepCredentials: true,
      serviceMode: "auto",
      installRoot: "",
    });
    await started.done;
    const job = await getJob(t.db, started.jobId);
    if (job.state !== "succeeded") throw new Error(job.error);
    ids[name] = job.gatewayId ?? "";
  }
});
afterAll(async () => {
  await t?.close();
});

const fileOf = (address: string, path = BIN) => hosts[`${address}:22`]?.files.get(path)?.toString() ?? "";
const run = async (started: Promise<{ jobId: string; done: Promise<void> }>) => {
  const s = await started;
  await s.done;
  return getJob(t.db, s.jobId);
};

describe("upgrading one gateway", () => {
  it("swaps the new build in and keeps the old one for rollback", async () => {
    current = bundleOf("2.0.0");
    connector.calls.length = 0;
    const job = await run(startUpgrade(deps(), admin, META, { gatewayId: ids["gw-a"] ?? "" }));
    expect(job.error).toBe("");
    expect(fileOf("192.0.2.1")).toBe(fakeBundleText("2.0.0"));
    expect(fileOf("192.0.2.1", `${BIN}-prev`)).toBe(fakeBundleText("1.0.0"));
    const commands = connector.calls.map((c) => c.argv.join(" "));
    const swap = commands.indexOf(`ln -f -- ${BIN} ${BIN}-prev`);
    expect(swap).toBeGreaterThan(-1);
    expect(commands[swap + 1]).toBe(`mv -f -- ${BIN}-new ${BIN}`);
    expect(job.steps.find((s) => s.key === "check")?.detail).toBe("1.0.0 running as a supervised service");
  });

  it("leaves the running build alone when the new one does not run", async () => {
    const gw = hosts["192.0.2.2:22"] as FakeGateway;
    current = { ...bundleOf("2.0.0"), bytes: Buffer.from("not an agent at all") };
    current.sha256 = createHash("sha256").update(current.bytes).digest("hex");
    connector.calls.length = 0;
    const job = await run(startUpgrade(deps(), admin, META, { gatewayId: ids["gw-b"] ?? "" }));
    expect(job.error).toMatch(/^Upload the new build failed: running the new build failed: exit status 1/);
    expect(fileOf("192.0.2.2")).toBe(fakeBundleText("1.0.0"));
    expect(gw.files.has(`${BIN}-new`)).toBe(false);
    expect(connector.calls.some((c) => c.argv.join(" ").includes("kill -TERM"))).toBe(false);
    expect(job.steps.map((s) => s.state)).toEqual(["done", "done", "failed", "skipped", "skipped", "skipped"]);
  });

  it("rolls back when the new build does not report", async () => {
    current = bundleOf("2.0.0");
    silent.add("192.0.2.2");
    try {
      const job = await run(startUpgrade(deps(), admin, META, { gatewayId: ids["gw-b"] ?? "" }));
      expect(job.error).toMatch(
        /^Wait for the new version to report failed: 2\.0\.0 did not report to the console within 0\.3 s.*; rolled back to 1\.0\.0 and restarted it$/s,
      );
      expect(fileOf("192.0.2.2")).toBe(fakeBundleText("1.0.0"));
      expect((hosts["192.0.2.2:22"] as FakeGateway).running).toBe(true);
    } finally {
      silent.delete("192.0.2.2");
    }
  });
});

describe("upgrading a cluster", () => {
  it("passes over gateways that already run the build", async () => {
    current = bundleOf("2.0.0");
    const job = await run(startClusterUpgrade(deps(), admin, META, { clusterId }));
    expect(job.state).toBe("succeeded");
    expect(job.steps.map((s) => `${s.label}:${s.state}:${s.detail}`)).toEqual([
      "gw-a:skipped:already runs 2.0.0",
      "gw-b:done:1.0.0 → 2.0.0, online",
      "gw-c:done:1.0.0 → 2.0.0, online",
    ]);
  });

  it("refuses to start when a gateway to upgrade has no kept credentials", async () => {
    const extra = await createGateway(t.db, admin, META, { clusterId, name: "gw-manual", address: "" });
    current = bundleOf("3.0.0");
    connector.calls.length = 0;
    await expect(startClusterUpgrade(deps(), admin, META, { clusterId })).rejects.toThrow(
      /No kept SSH credentials for "gw-manual"; store them on the gateway's page first/,
    );
    expect(connector.calls).toEqual([]);
    await t.db.gateway.delete({ where: { id: extra.id } });
  });
});

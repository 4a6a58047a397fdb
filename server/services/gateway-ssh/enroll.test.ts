import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../errors";
import { type FakeConnector, fakeConnector } from "../../../testkit/fakes/ssh";
import type { Actor } from "../audit/record";
import { hashToken } from "../gateways/tokens";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser, META } from "../../../testkit/server/gateways";
import { type AgentBundle, BundleError } from "./bundle";
import type { GatewaySshDeps } from "./deps";
import { type StartedJob, startEnrollment } from "./enroll";
import { FakeGateway, type FakeGatewayOptions, fakeBundleText } from "../../../testkit/fakes/gateway-host";
import { getJob } from "./jobs";

/**
 * The enrollment job's logic against a modelled gateway: the order of its steps, the commands it
 * sends, what it undoes (and in which order) when a step fails. The same flow runs against real
 * sshds in e2e/ssh.
 */

const HOST_KEY = { algorithm: "ssh-ed25519", fingerprint: `SHA256:${"A".repeat(43)}` };
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot parsed by the fake\n-----END OPENSSH PRIVATE KEY-----\n";

let t: GatewayTestDb;
let admin: Actor;
let clusterId: string;
let connector: FakeConnector;
let gateway: FakeGateway;
const bundle: AgentBundle = {
  path: "/dev/null",
  bytes: Buffer.from(fakeBundleText("1.2.3")),
  version: "1.2.3",
  sha256: createHash("sha256").update(fakeBundleText("1.2.3")).digest("hex"),
};

beforeAll(async () => {
  t = await gatewayTestDb();
  admin = await makeUser(t.db, "admin", "admin");
  ({ clusterId } = await makeCluster(t.db, admin));
});
afterAll(async () => {
  await t?.close();
});

function deps(over: Partial<GatewaySshDeps> = {}): GatewaySshDeps {
  return {
    db: t.db,
    connector,
    bundle: async () => bundle,
    unitTemplate: async () => "[Service]\nExecStart=/usr/bin/node /usr/local/bin/gatehouse-agent run\n",
    secretKeyText: () => randomBytes(32).toString("hex"),
    onlineTimeoutMs: 2_000,
    onlinePollMs: 20,
    ...over,
  };
}

/** A gateway at 192.0.2.50:22 whose agent "reports" to the console as soon as its service starts. */
function useGateway(opts: Partial<FakeGatewayOptions> & { reports?: boolean } = {}) {
  gateway = new FakeGateway({
    hostKey: HOST_KEY,
    onStart:
      opts.reports === false
        ? undefined
        : async () => {
            await t.db.gateway.updateMany({
              where: { address: "192.0.2.50" },
              data: { lastSeenAt: new Date(Date.now() + 1), agentVersion: bundle.version },
            });
          },
    ...opts,
  });
  connector = fakeConnector({ "192.0.2.50:22": gateway });
}

const input = (name: string, extra: Record<string, unknown> = {}) => ({
  clusterId,
  name,
  host: "192.0.2.50",
  port: 22,
  username: "root",
  auth: { kind: "key" as const, privateKey: KEY },
  hostKey: HOST_KEY,
  consoleUrl: "https://console.example",
  keepCredentials: true,
  serviceMode: "auto" as const,
  installRoot: "",
  ...extra,
});

async function finished(started: StartedJob) {
  await started.done;
  return getJob(t.db, started.jobId);
}

const ran = () => connector.calls.map((c) => c.argv.join(" "));
const leftInTmp = () => [...gateway.dirs, ...gateway.files.keys()].filter((p) => p.startsWith("/tmp/"));

beforeEach(() => useGateway());

// the fake does not parse keys: stand in for ssh2's check
vi.mock("../../ssh/keys", () => ({ privateKeyProblem: () => null }));

describe("enrollment over SSH", () => {
  it("installs a systemd service on a systemd host and finishes when the agent reports", async () => {
    useGateway({ pid1: "systemd" });
    const job = await finished(await startEnrollment(deps(), admin, META, input("gw-systemd")));
    expect(job.error).toBe("");
    expect(job.steps.every((s) => s.state === "done")).toBe(true);
    expect(gateway.files.get("/usr/local/bin/gatehouse-agent")?.toString()).toBe(fakeBundleText("1.2.3"));
    expect(gateway.files.get("/etc/systemd/system/gatehouse-agent.service")?.toString()).toContain(
      "ExecStart=/usr/bin/node --max-semi-space-size=1 /usr/local/bin/gatehouse-agent run --state-dir /var/lib/gatehouse-agent",
    );
    const commands = ran();
    expect(commands).toContain("systemctl daemon-reload");
    expect(commands).toContain("systemctl enable -- gatehouse-agent.service");
    expect(commands).toContain("systemctl start -- gatehouse-agent.service");
    // the agent read the gateway's enrollment token from a private file, which is gone again
    const enroll = commands.find((c) => c.includes(" enroll "));
    expect(enroll).toMatch(
      /--token-file \/tmp\/gatehouse-enroll\.\w{10}\/secret --state-dir \/var\/lib\/gatehouse-agent$/,
    );
    expect(gateway.enrollTokens).toHaveLength(1);
    const token = gateway.enrollTokens[0] ?? "";
    const row = await t.db.gateway.findFirstOrThrow({ where: { name: "gw-systemd" } });
    expect(row.enrollTokenHash).toBe(hashToken(token));
    expect(leftInTmp()).toEqual([]);
    // and it appeared on no command line (a process list shows those to every user) nor in the job
    expect(connector.calls.filter((c) => c.argv.some((a) => a.includes(token)))).toEqual([]);
    expect(commands.filter((c) => c.includes("ghe_"))).toEqual([]);
    expect(JSON.stringify(job)).not.toMatch(/ghe_/);
  });

  it("undoes everything, newest first, when the agent never reports", async () => {
    useGateway({ reports: false });
    const dirsBefore = new Set(gateway.dirs);
    const job = await finished(await startEnrollment(deps({ onlineTimeoutMs: 200 }), admin, META, input("gw-silent")));
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(
      /^Wait for the agent to report failed: the agent did not report to the console within 0.2 s; check that the gateway can reach https:\/\/console\.example\. Its log ends with:\n00:00:00 info agent starting/,
    );
    expect(job.steps.map((s) => `${s.key}:${s.state}`)).toEqual([
      "connect:done",
      "prerequisites:done",
      "register:undone",
      "upload:undone",
      "install:undone",
      "enroll:undone",
      "start:undone",
      "online:failed",
      "undo:done",
    ]);
    expect(job.steps.find((s) => s.key === "undo")?.detail.split("\n")).toEqual([
      "stop the agent: done",
      "remove /var/lib/gatehouse-agent: done",
      "remove /usr/local/lib/gatehouse-agent/supervise.sh: done",
      "remove /usr/local/bin/gatehouse-agent: done",
      "remove the directory /usr/local/lib/gatehouse-agent: done",
      "remove the directory /var/log/gatehouse-agent: done",
      "remove the directory /run/gatehouse-agent: done",
      'remove the gateway record "gw-silent": done',
    ]);
    expect(gateway.running).toBe(false);
    expect([...gateway.files.keys()]).toEqual([]);
    expect(gateway.dirs).toEqual(dirsBefore);
    expect(await t.db.gateway.count({ where: { name: "gw-silent" } })).toBe(0);
    const outcome = await t.db.auditEvent.findFirstOrThrow({
      where: { action: "gateway.ssh_enroll" },
      orderBy: { seq: "desc" },
    });
    expect(JSON.parse(outcome.after ?? "{}")).toMatchObject({ outcome: "failed", failedStep: "online" });
  });

  it("removes the token file when the agent cannot enroll, and says so when it cannot", async () => {
    const enrollFails = (argv: readonly string[]) =>
      argv.includes("enroll") ? { code: 1, stderr: "enroll: the console refused the token" } : undefined;
    useGateway({ override: enrollFails });
    const dirsBefore = new Set(gateway.dirs);
    const job = await finished(await startEnrollment(deps(), admin, META, input("gw-refused")));
    expect(job.error).toBe(
      "Enroll the agent failed: gatehouse-agent enroll failed: exit status 1: enroll: the console refused the token",
    );
    expect(job.steps.find((s) => s.key === "enroll")?.state).toBe("failed");
    expect(leftInTmp()).toEqual([]);
    expect(gateway.dirs).toEqual(dirsBefore);
    expect(ran().filter((c) => c.includes("ghe_"))).toEqual([]);

    useGateway({
      override: (argv) =>
        enrollFails(argv) ??
        (argv[0] === "rm" && argv[3]?.startsWith("/tmp/") ? { code: 1, stderr: "rm: Device busy" } : undefined),
    });
    const stuck = await finished(await startEnrollment(deps(), admin, META, input("gw-refused")));
    expect(stuck.error).toMatch(
      /^Enroll the agent failed: gatehouse-agent enroll failed: exit status 1: enroll: the console refused the token; \/tmp\/gatehouse-enroll\.\w{10} with the enrollment token is left on the host: removing the enrollment token failed: exit status 1: rm: Device busy$/,
    );
    // the undo still ran, and the token died with the gateway record
    expect(stuck.steps.find((s) => s.key === "undo")?.state).toBe("done");
    expect(await t.db.gateway.count({ where: { name: "gw-refused" } })).toBe(0);
  });

  it("reports an undo that fails and still runs the rest", async () => {
    useGateway({
      reports: false,
      override: (argv) =>
        argv[0] === "rm" && argv.includes("/usr/local/bin/gatehouse-agent")
          ? { code: 1, stderr: "rm: Read-only file system" }
          : undefined,
    });
    const job = await finished(await startEnrollment(deps({ onlineTimeoutMs: 100 }), admin, META, input("gw-stuck")));
    const undo = job.steps.find((s) => s.key === "undo");
    expect(undo?.state).toBe("failed");
    expect(undo?.detail).toContain(
      "remove /usr/local/bin/gatehouse-agent: FAILED (removing /usr/local/bin/gatehouse-agent failed: exit status 1: rm: Read-only file system)",
    );
    expect(undo?.detail).toContain('remove the gateway record "gw-stuck": done');
    expect(job.steps.find((s) => s.key === "upload")?.state).toBe("done");
  });

  it("runs everything through sudo for a user that may, and refuses one that may not", async () => {
    useGateway({ uid: 1000, sudo: true });
    const ok = await finished(await startEnrollment(deps(), admin, META, input("gw-sudo", { username: "ops" })));
    expect(ok.error).toBe("");
    expect(ok.steps[0]?.detail).toContain("(root through sudo)");
    const privileged = connector.calls.filter((c) => c.argv[0] === "mkdir" || c.argv.includes("mkdir"));
    expect(privileged.length).toBeGreaterThan(0);
    expect(privileged.every((c) => c.argv.slice(0, 3).join(" ") === "sudo -n --")).toBe(true);

    useGateway({ uid: 1000, sudo: false });
    const refused = await finished(await startEnrollment(deps(), admin, META, input("gw-nosudo", { username: "ops" })));
    expect(refused.error).toContain('"ops" is not root and cannot use sudo without a password');
  });

  it("keeps no credentials when asked not to, and refuses to keep them without GATEHOUSE_SECRET_KEY", async () => {
    const noKey = deps({ secretKeyText: () => undefined });
    const refused = await startEnrollment(noKey, admin, META, input("gw-nokey")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).message).toMatch(/cannot keep SSH credentials: GATEHOUSE_SECRET_KEY is not set/);
    expect(await t.db.sshJob.count({ where: { title: { contains: "gw-nokey" } } })).toBe(0);

    const job = await finished(
      await startEnrollment(noKey, admin, META, input("gw-nokey", { keepCredentials: false })),
    );
    expect(job.error).toBe("");
    const gw = await t.db.gateway.findFirstOrThrow({ where: { name: "gw-nokey" }, include: { ssh: true } });
    expect(gw.ssh).toMatchObject({ secret: null, authKind: "", hostKeyFingerprint: HOST_KEY.fingerprint });
  });

  it("runs one enrollment of a host at a time", async () => {
    const first = await startEnrollment(deps(), admin, META, input("gw-first"));
    await expect(startEnrollment(deps(), admin, META, input("gw-second"))).rejects.toThrow(
      /An enrollment of 192\.0\.2\.50:22 is already running/,
    );
    await first.done;
    const again = await finished(await startEnrollment(deps(), admin, META, input("gw-second")));
    // the host has an agent now: the check says so instead of installing a second one
    expect(again.error).toMatch(/an agent is already installed here/);
  });

  it("checks what it can before starting a job", async () => {
    await expect(startEnrollment(deps(), admin, META, input("gw-systemd"))).rejects.toThrow(
      /already has a gateway named "gw-systemd"/,
    );
    await expect(
      startEnrollment(deps(), admin, META, input("gw-x", { installRoot: "/srv/x", serviceMode: "systemd" })),
    ).rejects.toThrow(/works only with the supervised service/);
    await expect(
      startEnrollment(
        deps({ bundle: async () => Promise.reject(new BundleError("no dist")) }),
        admin,
        META,
        input("gw-y"),
      ),
    ).rejects.toThrow(/The agent build cannot be pushed: no dist/);
  });
});

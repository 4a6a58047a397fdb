import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrlOf } from "../../server/db/client";
import { AppError } from "../../server/errors";
import { deleteCredentials, getAccess, scanHostKey, trustHostKey } from "../../server/services/gateway-ssh/access";
import { runDiagnostics } from "../../server/services/gateway-ssh/diagnostics";
import { agentLayout } from "../../server/services/gateway-ssh/layout";
import { getGateway } from "../../server/services/gateways/gateways";
import { META } from "../../testkit/server/gateways";
import { startSshHarness, type SshHarness, stepStates, waitUntil } from "../../testkit/ssh-lab/fixtures";
import { SSH_PORT } from "../../testkit/ssh-lab/lab";

/**
 * Enrollment over SSH against real sshds in network namespaces: the agent is uploaded, installed
 * as a supervised service, enrolled and started through SSH, runs inside the gateway's namespace
 * (applying the published rules with its nft) and reports to the console's agent API.
 */

let h: SshHarness;
let gatewayId = "";

beforeAll(async () => {
  // gateway 1: a complete host; gateway 2: a login whose PATH has no conntrack
  h = await startSshHarness([{ client: true }, { withoutTools: ["conntrack"] }]);
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const gw1 = () => h.lab.gateways[0] as NonNullable<SshHarness["lab"]["gateways"][0]>;
const gw2 = () => h.lab.gateways[1] as NonNullable<SshHarness["lab"]["gateways"][1]>;

async function auditActions(): Promise<string[]> {
  const events = await h.t.db.auditEvent.findMany({ orderBy: { seq: "asc" }, select: { action: true } });
  return events.map((e) => e.action);
}

describe("adding a gateway over SSH", () => {
  it("shows the host key fingerprint exactly as OpenSSH does", async () => {
    const key = await scanHostKey(h.deps, { host: gw1().address, port: SSH_PORT });
    expect(key).toEqual({ algorithm: "ssh-ed25519", fingerprint: gw1().hostKeyFingerprint });
    // reading the key is not a login
    expect(gw1().sshdLog()).not.toMatch(/Accepted|Failed/);
  });

  it("installs, enrolls and starts the agent until it reports online", async () => {
    const job = await h.enroll(gw1(), "gw-1");
    expect(job.error).toBe("");
    expect(job.state).toBe("succeeded");
    expect(stepStates(job)).toEqual({
      connect: "done",
      prerequisites: "done",
      register: "done",
      upload: "done",
      install: "done",
      enroll: "done",
      start: "done",
      online: "done",
    });
    expect(job.steps.find((s) => s.key === "prerequisites")?.detail).toMatch(/service: supervised/);
    gatewayId = job.gatewayId ?? "";
    const gw = await getGateway(h.t.db, gatewayId);
    expect(gw.connection).toBe("online");
    expect(gw.agentVersion).toBe(h.bundle.version);
    expect(gw.facts.hostname).toBeTruthy();

    // the agent runs inside the gateway's namespace, under its supervisor, and applies the published rules
    const layout = agentLayout(gw1().installRoot);
    const agentPid = readFileSync(layout.agentPidFile, "utf8").trim();
    expect(execFileSync("ip", ["netns", "pids", gw1().ns], { encoding: "utf8" }).split("\n")).toContain(agentPid);
    await waitUntil("the published revision applied on the gateway", async () => {
      const g = await getGateway(h.t.db, gatewayId);
      return g.sync === "in_sync";
    });
    const table = await gw1().exec(["nft", "list", "table", "inet", "gatehouse"]);
    expect(table.code).toBe(0);

    // the credentials are kept sealed: not readable in the row nor anywhere in the database file
    const row = await h.t.db.gatewaySsh.findUniqueOrThrow({ where: { gatewayId } });
    expect(row.secret).toMatch(/^v1:/);
    const keyLine = h.lab.clientKey.split("\n")[2] ?? "";
    expect(keyLine.length).toBeGreaterThan(40);
    const dbFile = (databaseUrlOf(h.t.db) ?? "").replace(/^file:/, "");
    for (const f of readdirSync(join(dbFile, "..")).filter((n) => n.startsWith(dbFile.split("/").pop() ?? "-"))) {
      expect(readFileSync(join(dbFile, "..", f)).includes(keyLine)).toBe(false);
    }
    const access = await getAccess(h.t.db, gatewayId);
    expect(access).toMatchObject({ hasCredentials: true, authKind: "key", serviceMode: "supervised" });
    expect(JSON.stringify(access)).not.toContain("PRIVATE KEY");

    const actions = await auditActions();
    for (const a of ["gateway.ssh_enroll_start", "gateway.create", "gateway.ssh_credentials_set", "gateway.enroll"]) {
      expect(actions).toContain(a);
    }
    const outcome = await h.t.db.auditEvent.findFirstOrThrow({ where: { action: "gateway.ssh_enroll" } });
    expect(JSON.parse(outcome.after ?? "{}")).toMatchObject({ outcome: "succeeded", agentVersion: h.bundle.version });
  }, 90_000);

  it("runs read-only diagnostics and shows their output", async () => {
    // three connections from the LAN client, SNATed by the agent's rules on their way out eth1
    const send = `const s = require("node:dgram").createSocket("udp4");
      let n = 0; const next = () => n++ < 3 ? s.send("x", 5000 + n, "203.0.113.10", next) : s.close(); next();`;
    execFileSync("ip", ["netns", "exec", gw1().clientNs ?? "", "node", "-e", send], { timeout: 10_000 });
    const d = await runDiagnostics(h.deps, h.admin, META, { gatewayId });
    const section = (key: string) => d.sections.find((s) => s.key === key);
    expect(d.sections.map((s) => s.key)).toEqual([
      "agent-status",
      "nft-policy",
      "nft-guard",
      "ip-rules",
      "routes",
      "conntrack",
      "log",
    ]);
    const status = JSON.parse(section("agent-status")?.output ?? "{}") as Record<string, unknown>;
    expect(status).toMatchObject({ enrolled: true, gatewayName: "gw-1" });
    expect(JSON.stringify(status)).not.toContain("gha_");
    expect(section("nft-policy")?.output).toContain("table inet gatehouse {");
    expect(section("nft-guard")?.output).toContain("table inet gatehouse_guard {");
    expect(section("ip-rules")?.output).toMatch(/^101:.*lookup 7101/m);
    expect(section("routes")?.output).toMatch(/default via 198\.51\.100\.1 dev eth1 table 7101/);
    // pool-a is 198.51.100.64/26 (testkit/server/gateways.ts): every address listed, the busy ones counted
    expect(section("conntrack")?.output).toContain("pool-a (64 addresses): 3 SNATed connections");
    expect(section("conntrack")?.output).toMatch(/^ {2}198\.51\.100\.127 +\d+$/m);
    expect(section("conntrack")?.output).toMatch(/^ {2}198\.51\.100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7]) +[1-3]$/m);
    expect(section("log")?.output).toContain("agent starting");
    for (const s of d.sections) expect(s.ok, `${s.key}: ${s.output}`).toBe(true);
    expect(await auditActions()).toContain("gateway.ssh_diagnostics");
  }, 60_000);
});

describe("when enrollment fails", () => {
  const gatewayNames = async () => (await h.t.db.gateway.findMany({ select: { name: true } })).map((g) => g.name);

  it("refuses a wrong key or password at the login and registers nothing", async () => {
    const wrongKey = await h.enroll(gw1(), "gw-wrong-key", { auth: { kind: "key", privateKey: h.lab.strangerKey } });
    expect(wrongKey.state).toBe("failed");
    expect(wrongKey.error).toMatch(/^Log in over SSH failed: .*refused the SSH login as "root" with the private key/);
    expect(stepStates(wrongKey)).toMatchObject({ connect: "failed", prerequisites: "skipped", register: "skipped" });
    expect(wrongKey.steps.some((s) => s.key === "undo")).toBe(false);

    const wrongPassword = await h.enroll(gw1(), "gw-wrong-password", {
      auth: { kind: "password", password: "not-the-password" },
    });
    expect(wrongPassword.error).toMatch(/refused the SSH login as "root" with the password/);
    expect(await gatewayNames()).not.toContain("gw-wrong-key");
    expect(await gatewayNames()).not.toContain("gw-wrong-password");
    const outcomes = await h.t.db.auditEvent.findMany({ where: { action: "gateway.ssh_enroll" } });
    expect(outcomes.map((e) => JSON.parse(e.after ?? "{}").failedStep)).toEqual(
      expect.arrayContaining(["connect", "connect"]),
    );
  }, 60_000);

  it("refuses a host that lacks a prerequisite and installs nothing there", async () => {
    const job = await h.enroll(gw2(), "gw-2");
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/^Check the host failed: conntrack is not installed \(not found in root's PATH/);
    // only conntrack is missing: the other checks passed
    expect(job.error).not.toMatch(/nft is|fping is|node is/);
    expect(stepStates(job)).toMatchObject({ connect: "done", prerequisites: "failed", upload: "skipped" });
    expect(existsSync(gw2().installRoot)).toBe(false);
    expect(await gatewayNames()).not.toContain("gw-2");
  }, 60_000);

  it("undoes every step before the one that failed", async () => {
    const root = join(gw1().dir, "second-root");
    // nothing listens there: the agent cannot enroll
    const job = await h.enroll(gw1(), "gw-unreachable", {
      installRoot: root,
      consoleUrl: "http://100.64.1.1:9",
    });
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/^Enroll the agent failed: gatehouse-agent enroll failed: exit status 1: .*/s);
    expect(stepStates(job)).toEqual({
      connect: "done",
      prerequisites: "done",
      register: "undone",
      upload: "undone",
      install: "undone",
      enroll: "failed",
      start: "skipped",
      online: "skipped",
      undo: "done",
    });
    const undo = job.steps.find((s) => s.key === "undo")?.detail ?? "";
    expect(undo).toContain(`remove ${agentLayout(root).supervisor}: done`);
    expect(undo).toContain('remove the gateway record "gw-unreachable": done');
    // every directory the upload created is gone again, up to the install root itself
    expect(existsSync(root)).toBe(false);
    expect(await gatewayNames()).not.toContain("gw-unreachable");
    const actions = await h.t.db.auditEvent.findMany({ where: { action: "gateway.delete" } });
    expect(actions.map((a) => JSON.parse(a.before ?? "{}").name)).toContain("gw-unreachable");
  }, 60_000);
});

describe("a pinned host key", () => {
  it("refuses a changed key until an admin confirms the new one", async () => {
    const pinned = gw1().hostKeyFingerprint;
    const changed = await gw1().changeHostKey();
    expect(changed).not.toBe(pinned);

    const refused = await runDiagnostics(h.deps, h.admin, META, { gatewayId }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("CONFLICT");
    expect((refused as AppError).message).toContain("has changed");
    expect((refused as AppError).message).toContain(changed);
    expect((refused as AppError).message).toContain(pinned);
    // nothing was sent: no login attempt reached sshd
    expect(gw1().sshdLog()).not.toMatch(/Accepted publickey|Failed publickey/);

    // an enrollment whose confirmed key is the old one stops at the login too
    const job = await h.enroll(gw1(), "gw-old-key", {
      hostKey: { algorithm: "ssh-ed25519", fingerprint: pinned },
      installRoot: join(gw1().dir, "third-root"),
    });
    expect(job.error).toMatch(/^Log in over SSH failed: The host key of .* has changed/);

    const shown = await scanHostKey(h.deps, { host: gw1().address, port: SSH_PORT });
    await trustHostKey(h.deps, h.admin, META, { gatewayId, hostKey: shown });
    const d = await runDiagnostics(h.deps, h.admin, META, { gatewayId });
    expect(d.hostKey.fingerprint).toBe(changed);
    const trust = await h.t.db.auditEvent.findFirstOrThrow({ where: { action: "gateway.ssh_host_key_trust" } });
    expect(JSON.parse(trust.before ?? "{}").hostKey.fingerprint).toBe(pinned);
  }, 60_000);

  it("deleted credentials cannot be used any more", async () => {
    await deleteCredentials(h.deps, h.admin, META, { gatewayId });
    const row = await h.t.db.gatewaySsh.findUniqueOrThrow({ where: { gatewayId } });
    expect(row.secret).toBeNull();
    await expect(runDiagnostics(h.deps, h.admin, META, { gatewayId })).rejects.toThrow(/not kept or have been deleted/);
    // the gateway itself keeps running and reporting
    expect((await getGateway(h.t.db, gatewayId)).connection).toBe("online");
  });
});

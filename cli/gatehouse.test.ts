import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness } from "../testkit/server/api";
import { type ConsoleApiServer, startConsoleApiServer } from "../testkit/server/console-api-server";

const ROOT = join(__dirname, "..");
const SAMPLES = join(ROOT, "core/import/__samples__");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command line as its own process. */
function gatehouse(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "cli/main.ts"), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } as unknown as NodeJS.ProcessEnv, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === "number" ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("the gatehouse command line against a console on 127.0.0.1", () => {
  let h: ApiHarness;
  let server: ConsoleApiServer;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    h = await apiHarness("sqlite");
    server = await startConsoleApiServer(h.db);
    const t = await h.as("admin").token.create({ name: "cli-test", role: "operator", expiresInDays: 1 });
    env = { GATEHOUSE_URL: server.url, GATEHOUSE_TOKEN: t.token };
    const c = await h.as("admin").cluster.create({ name: "edge" });
    await h
      .as("admin")
      .isp.create({ clusterId: c.id, fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" } });
    dir = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("tries a file without any console: per-line results and the policy as YAML", async () => {
    const r = await gatehouse(["import", join(SAMPLES, "lvs-snat.ipvsadm.sh"), "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+\s+9 {2}imported as rule/);
    expect(r.stdout).toMatch(/^gatehouse: 1$/m);
    const asks = await gatehouse(["import", join(SAMPLES, "dsnat.ipvsadm"), "--dry-run", "--json"]);
    expect(asks.code).toBe(3);
    expect(JSON.parse(asks.stdout).questions).toHaveLength(2);
  });

  it("imports into a cluster's draft, exports, diffs and applies a document, and publishes", async () => {
    const file = join(SAMPLES, "nat.iptables-save");
    // eth2 (the MASQUERADE line's uplink) is no ISP of the cluster yet: its next hop is asked
    const asked = await gatehouse(["import", file, "--cluster", "edge", "--dry-run"], env);
    expect(asked.code).toBe(3);
    const answer = ["--answer", "nextHop:eth2=100.64.0.1"];
    const dry = await gatehouse(["import", file, "--cluster", "edge", "--dry-run", ...answer], env);
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.stdout).toContain("adds 1 ISP(s), 4 pool(s), 0 zone(s), 7 rule(s)");
    const real = await gatehouse(["import", file, "--cluster", "edge", ...answer], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain("added to the draft");

    const status = await gatehouse(["status", "--cluster", "edge", "--json"], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ dirty: true, publishedRevision: 0 });

    const exported = await gatehouse(["export", "--cluster", "edge", "--format", "yaml"], env);
    expect(exported.code).toBe(0);
    const yamlFile = join(dir, "edge.yaml");
    // the file turns one rule off: apply makes the draft match and publishes
    writeFileSync(yamlFile, exported.stdout.replace("enabled: true", "enabled: false"));
    const diff = await gatehouse(["diff", "--cluster", "edge", "-f", yamlFile], env);
    expect(diff.stdout).toContain("1 change(s): 0 added, 1 changed, 0 removed");
    const applied = await gatehouse(["apply", "-f", yamlFile, "--publish", "--json"], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ written: true, published: 1 });
    const again = await gatehouse(["apply", "-f", yamlFile], env);
    expect(again.stdout).toContain("the draft already matches the file");

    const ipt = await gatehouse(["export", "--cluster", "edge", "--revision", "1", "--format", "iptables"], env);
    expect(ipt.stdout).toContain("*nat");
    expect(ipt.stderr).toContain("is disabled: left out");
    expect(
      await h.db.auditEvent.count({ where: { actorName: "token:cli-test", action: { contains: "publish" } } }),
    ).toBe(1);
  }, 120_000);

  it("imports a keepalived.conf for the gateway it belongs to (--gateway)", async () => {
    const admin = h.as("admin");
    const pair = await admin.cluster.create({ name: "pair" });
    const isp = await admin.isp.create({
      clusterId: pair.id,
      fields: { name: "telia", interface: "eth1", nextHop: "198.51.100.1" },
    });
    await admin.pool.create({
      clusterId: pair.id,
      fields: { name: "telia-main", ispId: isp.entity.id, addresses: ["198.51.100.10-198.51.100.13"] },
    });
    const gw = await admin.gateway.create({ clusterId: pair.id, name: "lb-a", address: "" });
    const file = join(SAMPLES, "vrrp-pair", "lb-a.conf");

    // without a console the gateway is only a name, and its values are read for it
    const offline = await gatehouse(["import", file, "--dry-run", "--gateway", "lb-a"]);
    expect(offline.code, offline.stdout).toBe(0);
    expect(offline.stdout).toMatch(/=\s+lb-a\.conf:6 {2}this gateway's VRRP priority 150/);
    const without = await gatehouse(["import", file, "--dry-run"]);
    expect(without.stdout).toMatch(/!\s+lb-a\.conf:6 {2}not imported: a gateway's priority belongs/);

    const unknown = await gatehouse(["import", file, "--cluster", "pair", "--gateway", "lb-z"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no gateway named lb-z in this cluster");
    const wrongFormat = await gatehouse(
      ["import", join(SAMPLES, "nat.iptables-save"), "--dry-run", "--gateway", "lb-a"],
      env,
    );
    expect(wrongFormat.code).toBe(2);
    expect(wrongFormat.stderr).toContain("--gateway applies to keepalived.conf files only");

    const added = await gatehouse(["import", file, "--cluster", "pair", "--gateway", "lb-a", "--json"], env);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout).added).toMatchObject({ haSettings: 1, gatewaySettings: 1 });
    const settings = await admin.gateway.settings({ id: gw.id });
    expect(settings).toMatchObject({ settings: { priority: 150, lanInterface: "lan0", lanAddress: "100.64.0.2/24" } });
  }, 120_000);

  it("exits with meaningful codes", async () => {
    expect((await gatehouse(["status"])).code).toBe(2);
    expect((await gatehouse(["status"], { ...env, GATEHOUSE_TOKEN: "ghp_wrong" })).code).toBe(4);
    expect((await gatehouse(["status"], { ...env, GATEHOUSE_URL: "http://127.0.0.1:1" })).code).toBe(5);
    expect((await gatehouse(["export", "--cluster", "nope"], env)).code).toBe(1);
    expect((await gatehouse(["bogus-command"])).code).toBe(2);
  }, 60_000);
});

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentBundle } from "../../server/services/gateway-ssh/bundle";
import { getJob } from "../../server/services/gateway-ssh/jobs";
import { agentLayout } from "../../server/services/gateway-ssh/layout";
import { startClusterUpgrade, startUpgrade } from "../../server/services/gateway-ssh/upgrade";
import { getGateway } from "../../server/services/gateways/gateways";
import { META } from "../../testkit/server/gateways";
import { sha256File, type SshHarness, startSshHarness, stepStates } from "../../testkit/ssh-lab/fixtures";
import type { LabGateway } from "../../testkit/ssh-lab/lab";

/**
 * Agent upgrades over SSH against three enrolled gateways in namespaces: one gateway on its own,
 * then the whole cluster one gateway at a time, where the second gateway's new build cannot reach
 * the console: it is rolled back, and the third gateway is not touched at all.
 */

let h: SshHarness;
let v1: AgentBundle;
const ids: Record<string, string> = {};
const names = ["gw-a", "gw-b", "gw-c"] as const;

beforeAll(async () => {
  h = await startSshHarness([{}, {}, {}]);
  v1 = h.bundle;
  for (const [i, name] of names.entries()) {
    const job = await h.enroll(h.lab.gateways[i] as LabGateway, name);
    if (job.state !== "succeeded") throw new Error(`enrolling ${name} failed: ${job.error}`);
    ids[name] = job.gatewayId ?? "";
  }
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const lab = (name: (typeof names)[number]) => h.lab.gateways[names.indexOf(name)] as LabGateway;
const layoutOf = (name: (typeof names)[number]) => agentLayout(lab(name).installRoot);
const agentPid = (name: (typeof names)[number]) => readFileSync(layoutOf(name).agentPidFile, "utf8").trim();
const logins = (name: (typeof names)[number]) => lab(name).sshdLog().split("Accepted publickey").length - 1;
const versionOf = async (name: (typeof names)[number]) => (await getGateway(h.t.db, ids[name] ?? "")).agentVersion;

describe("upgrading agents over SSH", () => {
  it("upgrades one gateway: upload, atomic swap, restart, online with the new version", async () => {
    const v2 = await h.variant("9.0.0-upgrade.2");
    h.bundle = v2;
    const pidBefore = agentPid("gw-a");
    const started = await startUpgrade(h.deps, h.admin, META, { gatewayId: ids["gw-a"] ?? "" });
    await started.done;
    const job = await getJob(h.t.db, started.jobId);
    expect(job.error).toBe("");
    expect(job.state).toBe("succeeded");
    expect(stepStates(job)).toEqual({
      connect: "done",
      check: "done",
      upload: "done",
      swap: "done",
      restart: "done",
      online: "done",
    });
    expect(job.steps.find((s) => s.key === "check")?.detail).toContain(v1.version);
    expect(await versionOf("gw-a")).toBe(v2.version);
    expect((await getGateway(h.t.db, ids["gw-a"] ?? "")).connection).toBe("online");
    const layout = layoutOf("gw-a");
    expect(sha256File(layout.bin)).toBe(v2.sha256);
    expect(sha256File(layout.binPrev)).toBe(v1.sha256);
    expect(agentPid("gw-a")).not.toBe(pidBefore);
    // the others were not part of it
    expect(await versionOf("gw-b")).toBe(v1.version);
    const audit = await h.t.db.auditEvent.findFirstOrThrow({ where: { action: "gateway.ssh_upgrade" } });
    expect(JSON.parse(audit.after ?? "{}")).toMatchObject({ outcome: "succeeded", from: v1.version, to: v2.version });
  }, 90_000);

  it("upgrades a cluster one gateway at a time and stops at the first failure", async () => {
    const v2 = h.bundle;
    const v3 = await h.variant("9.0.0-upgrade.3");
    h.bundle = v3;
    // gw-b can still be reached over SSH, but its agent can no longer reach the console
    const block = await lab("gw-b").exec([
      "nft",
      "add table inet lab_block; add chain inet lab_block out { type filter hook output priority 0; }; add rule inet lab_block out tcp dport 8080 drop",
    ]);
    expect(block.code, block.stderr).toBe(0);
    const untouched = {
      sha: sha256File(layoutOf("gw-c").bin),
      agentPid: agentPid("gw-c"),
      supervisorPid: readFileSync(layoutOf("gw-c").supervisorPidFile, "utf8").trim(),
      logins: logins("gw-c"),
    };
    h.deps.onlineTimeoutMs = 8_000;

    const started = await startClusterUpgrade(h.deps, h.admin, META, { clusterId: h.clusterId });
    await started.done;
    const job = await getJob(h.t.db, started.jobId);
    expect(job.state).toBe("failed");
    expect(job.steps.map((s) => [s.label, s.state])).toEqual([
      ["gw-a", "done"],
      ["gw-b", "failed"],
      ["gw-c", "skipped"],
    ]);
    const [a, b, c] = job.steps;
    expect(a?.detail).toBe(`${v2.version} → ${v3.version}, online`);
    expect(b?.detail).toMatch(
      /^Wait for the new version to report failed: 9\.0\.0-upgrade\.3 did not report to the console within 8 s/,
    );
    expect(b?.detail).toContain(`rolled back to ${v1.version} and restarted it`);
    expect(c?.detail).toBe("not touched: gw-b failed before it");
    expect(job.error).toMatch(/^gw-b: /);

    // gw-a runs the new build; gw-b its old one again; gw-c exactly what it ran before
    expect(await versionOf("gw-a")).toBe(v3.version);
    expect(sha256File(layoutOf("gw-a").bin)).toBe(v3.sha256);
    expect(sha256File(layoutOf("gw-b").bin)).toBe(v1.sha256);
    expect(sha256File(layoutOf("gw-c").bin)).toBe(untouched.sha);
    expect(agentPid("gw-c")).toBe(untouched.agentPid);
    expect(readFileSync(layoutOf("gw-c").supervisorPidFile, "utf8").trim()).toBe(untouched.supervisorPid);
    expect(await versionOf("gw-c")).toBe(v1.version);
    // not even a login
    expect(logins("gw-c")).toBe(untouched.logins);

    const audit = await h.t.db.auditEvent.findFirstOrThrow({ where: { action: "cluster.ssh_upgrade" } });
    expect(JSON.parse(audit.after ?? "{}")).toMatchObject({
      outcome: "failed",
      upgraded: ["gw-a"],
      failed: "gw-b",
      untouched: ["gw-c"],
      to: v3.version,
    });
    const perGateway = await h.t.db.auditEvent.findMany({
      where: { action: "gateway.ssh_upgrade" },
      orderBy: { seq: "asc" },
    });
    expect(perGateway.map((e) => JSON.parse(e.after ?? "{}")).slice(-2)).toMatchObject([
      { name: "gw-a", outcome: "succeeded" },
      { name: "gw-b", outcome: "failed", rolledBack: true, failedStep: "online" },
    ]);
  }, 120_000);
});

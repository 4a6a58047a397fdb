import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HaStatus } from "../../core/protocol/agent-api";
import { compileHa } from "../../core/policy/compile-ha";
import { fakeSpawner } from "../../testkit/fakes/spawner";
import { FakeRunner } from "../../testkit/fakes/runner";
import { HA_GATEWAYS, haPolicy } from "../../testkit/ha-fixtures";
import { HaSupervisor, needsHandover } from "./supervisor";

const ha = compileHa({
  policy: haPolicy("active_standby"),
  gateways: HA_GATEWAYS,
  gatewayId: "gw-a",
  addressesOf: () => ["198.51.100.10"],
});
if (ha === null) throw new Error("the fixture has high availability");

const waitUntil = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`never: ${what}`);
};

describe("HaSupervisor", () => {
  let dir: string;
  let runner: FakeRunner;
  let fake: ReturnType<typeof fakeSpawner>;
  let reports: Array<HaStatus | undefined>;
  let sup: HaSupervisor;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gh-ha-sup-"));
    runner = new FakeRunner().on(["keepalived", "-t"], {}).on(["conntrackd"], {}).on(["ip", "addr", "del"], {});
    fake = fakeSpawner();
    reports = [];
    sup = new HaSupervisor({
      runner,
      spawner: fake.spawner,
      log: pino({ level: "silent" }),
      dir,
      onChange: (s) => reports.push(s),
    });
  });

  afterEach(async () => {
    await sup.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes both configurations, checks keepalived's and runs both daemons from the agent's directory", async () => {
    await sup.setSpec(ha);
    expect(readFileSync(join(dir, "keepalived.conf"), "utf8")).toContain(`notify_fifo ${dir}/keepalived.fifo`);
    expect(readFileSync(join(dir, "conntrackd.conf"), "utf8")).toContain(`Path ${dir}/conntrackd.ctl`);
    expect(readFileSync(join(dir, "links.weight"), "utf8")).toBe("0\n");
    expect(runner.commands()).toContain(`keepalived -t -f ${dir}/keepalived.conf.new`);
    expect(fake.procs.map((p) => p.args.slice(0, 3).join(" "))).toEqual([
      `conntrackd -C ${dir}/conntrackd.conf`,
      "keepalived --dont-fork --log-console",
    ]);
    expect(fake.procs[1]?.args).toContain(`${dir}/keepalived-vrrp.pid`);
    expect(sup.status()).toMatchObject({ keepalived: "running", conntrackd: "running", error: "" });
  });

  it("keeps the running configuration when keepalived refuses a new one, and says why", async () => {
    runner.on(["keepalived", "-t"], { code: 1, stderr: "unknown interface ens9" });
    await sup.setSpec(ha);
    expect(fake.procs.some((p) => p.args[0] === "keepalived")).toBe(false);
    expect(sup.status()?.error).toContain("unknown interface ens9");
  });

  it("follows the notify fifo: a new master commits the synced connections, timed, a new backup asks for a resync", async () => {
    await sup.setSpec(ha);
    execFileSync("mkfifo", [join(dir, "keepalived.fifo")]);
    // the supervisor looks for the fifo every 200 ms
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(dir, "keepalived.fifo"), 'INSTANCE "lan" BACKUP 150\nGROUP "cluster" BACKUP\n');
    await waitUntil("backup", () => sup.status()?.groups[0]?.state === "backup");
    await waitUntil("resync asked", () => runner.commands().some((c) => c.endsWith(" -n")));
    writeFileSync(join(dir, "keepalived.fifo"), 'GROUP "cluster" MASTER\n');
    await waitUntil("committed", () => (sup.status()?.transitions.at(-1)?.commitMs ?? null) !== null);
    const conntrackd = runner.commands().filter((c) => c.startsWith("conntrackd"));
    expect(conntrackd.map((c) => c.split(" ").at(-1))).toEqual(["-t", "-n", "-c", "-f", "-R", "-B"]);
    expect(sup.status()?.transitions.map((t) => [t.from, t.to])).toEqual([
      ["unknown", "backup"],
      ["backup", "master"],
    ]);
  });

  it("reports a failing commit step in the transition", async () => {
    runner.on(["conntrackd", "-C", join(dir, "conntrackd.conf"), "-c"], { code: 1, stderr: "cannot commit" });
    await sup.setSpec(ha);
    execFileSync("mkfifo", [join(dir, "keepalived.fifo")]);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(dir, "keepalived.fifo"), 'GROUP "cluster" MASTER\n');
    await waitUntil("the error", () => (sup.status()?.transitions.at(-1)?.error ?? "") !== "");
    expect(sup.status()?.transitions.at(-1)?.error).toContain("cannot commit");
  });

  it("removes the floating addresses when keepalived dies, reports it and starts it again", async () => {
    await sup.setSpec(ha);
    fake.procs[1]?.exit({ code: null, signal: "SIGKILL" });
    await waitUntil("failed", () => sup.status()?.keepalived === "failed");
    expect(sup.status()?.error).toContain("keepalived killed by SIGKILL");
    await waitUntil("addresses removed", () => runner.commands().includes("ip addr del 100.64.0.1/24 dev eth0"));
    expect(runner.commands()).toContain("ip addr del 198.51.100.10/32 dev eth1");
    await waitUntil("restarted", () => fake.procs.filter((p) => p.args[0] === "keepalived").length === 2);
    expect(sup.status()?.keepalived).toBe("running");
  });

  it("writes the link weight from the agent's link health: every link down is FAULT", async () => {
    await sup.setSpec(ha);
    sup.linksChanged(
      new Map([
        ["isp-alpha", "down"],
        ["isp-beta", "up"],
      ]),
    );
    expect(readFileSync(join(dir, "links.weight"), "utf8")).toBe("1\n");
    expect(sup.status()?.groups[0]?.effectivePriority).toBe(100);
    sup.linksChanged(
      new Map([
        ["isp-alpha", "down"],
        ["isp-beta", "down"],
      ]),
    );
    expect(Number(readFileSync(join(dir, "links.weight"), "utf8")) * ha.trackLinkWeight).toBeGreaterThanOrEqual(254);
  });

  it("hands a drained master's groups over by restarting keepalived, once", async () => {
    await sup.setSpec(ha);
    execFileSync("mkfifo", [join(dir, "keepalived.fifo")]);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(dir, "keepalived.fifo"), 'GROUP "cluster" MASTER\n');
    await waitUntil("master", () => sup.status()?.groups[0]?.state === "master");
    const keepalived = () => fake.procs.filter((p) => p.args[0] === "keepalived");
    await sup.setSpec({ ...ha, drained: true });
    const started = keepalived().length;
    expect(started).toBeGreaterThan(1);
    expect(keepalived()[0]?.stopped).toBe(true);
    expect(readFileSync(join(dir, "keepalived.conf"), "utf8")).toContain("priority 1\n");
    await sup.setSpec({ ...ha, drained: true });
    expect(keepalived()).toHaveLength(started);
  });

  it("hands over only what the peers would not take by themselves", () => {
    expect(needsHandover({ ...ha, drained: true }, false, true, true)).toBe(true);
    expect(needsHandover({ ...ha, drained: true, preempt: true }, false, true, true)).toBe(false);
    expect(needsHandover({ ...ha, drained: true }, true, true, true)).toBe(false);
    expect(needsHandover({ ...ha, drained: true }, false, false, true)).toBe(false);
    expect(needsHandover(ha, false, true, true)).toBe(false);
  });

  it("stops both daemons and removes the addresses when the spec loses its ha section", async () => {
    await sup.setSpec(ha);
    await sup.setSpec(null);
    expect(fake.procs.every((p) => p.stopped)).toBe(true);
    expect(runner.commands()).toContain("ip addr del 198.51.100.4/24 dev eth1");
    expect(reports.at(-1)).toBeUndefined();
    expect(sup.status()).toBeUndefined();
  });
});

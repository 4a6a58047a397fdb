import { createServer, type AddressInfo } from "node:net";
import { parseExposition } from "../../testkit/prometheus";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgent } from "../../scripts/build-agent";
import { createGateway } from "../../server/services/gateways/gateways";
import { type AgentApiServer, startAgentApiServer } from "../../testkit/server/agent-test-server";
import { AGENT_ENV, AGENT_NODE_FLAGS } from "../../core/protocol/agent-runtime";
import {
  type GatewayTestDb,
  gatewayTestDb,
  makeCluster,
  makeUser,
  META,
  publishChange,
} from "../../testkit/server/gateways";

/**
 * The bundled agent as an operator runs it, against the console's real agent endpoints on
 * 127.0.0.1, with nft, ip and sysctl replaced by a fake (testdata/fake-datapath.mjs) so the
 * host's datapath is never touched.
 */

const here = dirname(fileURLToPath(import.meta.url));
let work: string;
let agentFile: string;
let fakeBin: string;
let fakeState: string;
let stateDir: string;
let t: GatewayTestDb;
let api: AgentApiServer;
let admin: Awaited<ReturnType<typeof makeUser>>;
let clusterId: string;
let poolId: string;
let gatewayId: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "gh-agent-process-"));
  agentFile = (await buildAgent(join(work, "gatehouse-agent.mjs"))).outfile;
  fakeBin = join(work, "bin");
  fakeState = join(work, "datapath");
  stateDir = join(work, "state");
  mkdirSync(fakeBin);
  mkdirSync(fakeState);
  // fping and conntrack too: the agent's probers and connection counts must not reach the host
  for (const tool of ["nft", "ip", "sysctl", "fping", "conntrack"])
    symlinkSync(join(here, "testdata/fake-datapath.mjs"), join(fakeBin, tool));
  t = await gatewayTestDb();
  admin = await makeUser(t.db, "root", "admin");
  ({ clusterId, poolId } = await makeCluster(t.db, admin));
  api = await startAgentApiServer(t.db, { recheckMs: 500 });
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await api?.stop();
  await t?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Agent {
  proc: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function agent(args: string[]): Agent {
  const proc = spawn(process.execPath, [...AGENT_NODE_FLAGS, agentFile, ...args], {
    env: {
      PATH: `${fakeBin}:${dirname(process.execPath)}:/usr/bin:/bin`,
      FAKE_DATAPATH_DIR: fakeState,
      HOME: work,
      NODE_ENV: "production",
      ...AGENT_ENV,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  let out = "";
  let err = "";
  const logs: Array<Record<string, unknown>> = [];
  proc.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
    const lines = err.split("\n");
    err = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line, raw: true });
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, logs, stdout: () => out, stderr: () => err, exit };
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The revision of the ruleset the fake kernel holds, from the rendered file's header line. */
function loadedRevision(): number | null {
  const file = join(fakeState, "ruleset.nft");
  if (!existsSync(file)) return null;
  const m = /revision (\d+), failover epoch/.exec(readFileSync(file, "utf8").split("\n", 1)[0] ?? "");
  return m ? Number(m[1]) : null;
}

const nftLoads = () =>
  readFileSync(join(fakeState, "calls.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { tool: string; args: string[] })
    .filter((c) => c.tool === "nft" && c.args[0] === "-f").length;

const gatewayRow = () => t.db.gateway.findUniqueOrThrow({ where: { id: gatewayId } });

describe("the agent process against a console", () => {
  let running: Agent;

  /** A port nothing listens on right now, for the agent's metrics. */
  const freePort = () =>
    new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });

  it("enrolls with the one-time token and keeps the agent token in a 0600 file", async () => {
    await publishChange(t.db, admin, clusterId, poolId);
    const gw = await createGateway(t.db, admin, META, { clusterId, name: "gw1", address: "127.0.0.1" });
    gatewayId = gw.id;
    // the token from a file, as the SSH installer passes it: never on the command line
    const tokenFile = join(work, "enroll-token");
    writeFileSync(tokenFile, `${gw.enrollToken}\n`, { mode: 0o600 });
    const enroll = agent(["enroll", "--console", api.url, "--token-file", tokenFile, "--state-dir", stateDir]);
    expect(await enroll.exit).toBe(0);
    expect(enroll.stdout()).toMatch(/Enrolled as gateway "gw1" of cluster "lab"/);
    const credentials = join(stateDir, "credentials.json");
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(credentials, "utf8")) as { agentToken: string; consoleUrl: string };
    expect(saved.agentToken).toMatch(/^gha_/);
    expect(saved.consoleUrl).toBe(api.url);
    const row = await gatewayRow();
    expect(row.enrollTokenHash).toBeNull();
    expect(JSON.parse(row.facts)).toMatchObject({
      nftVersion: "1.0.6 (Lester Gooch #5)",
      interfaces: [{ name: "lo" }, { name: "eth1" }],
    });

    const reuse = agent([
      "enroll",
      "--console",
      api.url,
      "--token",
      gw.enrollToken,
      "--state-dir",
      join(work, "other"),
    ]);
    expect(await reuse.exit).toBe(1);
    expect(reuse.stderr() + reuse.logs.map((l) => l.msg).join("\n")).toMatch(/401.*already used/);
  }, 30_000);

  it("applies the published revision, reports it, and applies a newly published one while it runs", async () => {
    const metricsPort = await freePort();
    running = agent(["run", "--state-dir", stateDir, "--metrics-listen", `127.0.0.1:${metricsPort}`]);
    const published = (await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } })).publishedRevision;
    await waitFor("the first apply reported", async () => {
      const row = await gatewayRow();
      return row.appliedRevision === published && row.lastApplyOk === true && row.lastSeenAt !== null;
    });
    expect(loadedRevision()).toBe(published);
    const row = await gatewayRow();
    expect(row.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    // let the agent settle into its long poll
    await new Promise((r) => setTimeout(r, 300));

    const publishedAt = Date.now();
    const next = await publishChange(t.db, admin, clusterId, poolId);
    await waitFor("the new revision in the kernel", () => loadedRevision() === next, 5000);
    const latency = Date.now() - publishedAt;
    // the figure is for people reading the log; speed targets are measured by the benchmarks
    console.info(`publish -> applied on the gateway: ${latency} ms`);
    await waitFor("the new revision reported", async () => (await gatewayRow()).appliedRevision === next, 5000);

    const applies = await t.db.auditEvent.findMany({
      where: { action: "gateway.apply", targetId: gatewayId },
      orderBy: { seq: "asc" },
    });
    expect(applies.map((e) => [e.actorType, (JSON.parse(e.after ?? "{}") as { revision: number }).revision])).toEqual([
      ["agent", published],
      ["agent", next],
    ]);
    expect(running.logs.some((l) => l.msg === "applied" && l.revision === next && l.level === 30)).toBe(true);

    // the agent's own metrics say the same
    const scraped = parseExposition(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    expect(scraped.get("gatehouse_agent_running_revision")).toBe(next);
    expect(scraped.get('gatehouse_agent_applies_total{outcome="ok"}')).toBe(2);
    expect(scraped.get("gatehouse_agent_apply_duration_seconds_count")).toBe(2);
  }, 30_000);

  it("reports nft's error and keeps the previous rules when a revision does not load", async () => {
    const before = loadedRevision();
    writeFileSync(
      join(fakeState, "fail-check"),
      "/tmp/gatehouse.nft:12:3-9: Error: Could not process rule: No such file or directory\n",
    );
    try {
      const bad = await publishChange(t.db, admin, clusterId, poolId);
      const row = await waitFor("the failed apply reported", async () => {
        const r = await gatewayRow();
        return r.lastApplyOk === false ? r : null;
      });
      expect(row.appliedRevision).toBe(before);
      expect(row.lastApplyError).toMatch(/^check: .*Could not process rule/);
      expect(loadedRevision()).toBe(before);
      const failed = await t.db.auditEvent.findFirst({
        where: { action: "gateway.apply", targetId: gatewayId },
        orderBy: { seq: "desc" },
      });
      expect(JSON.parse(failed?.after ?? "{}")).toMatchObject({ ok: false, revision: bad });
    } finally {
      rmSync(join(fakeState, "fail-check"), { force: true });
    }
    // the agent retries the failed revision by itself once nft accepts it
    const fixed = (await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } })).publishedRevision;
    await waitFor("the retried apply", () => loadedRevision() === fixed, 15_000);
  }, 30_000);

  it("keeps the applied rules while the console is down, retries with backoff, and catches up when it is back", async () => {
    const loadsBefore = nftLoads();
    const revisionBefore = loadedRevision();
    const logsBefore = running.logs.length;
    await api.stop();
    // a change published while the agent cannot reach the console
    const missed = await publishChange(t.db, admin, clusterId, poolId);
    const retries = await waitFor(
      "two retries",
      () => {
        const r = running.logs
          .slice(logsBefore)
          .filter((l) => l.msg === "cannot get the desired state; keeping the applied rules");
        return r.length >= 2 ? r : null;
      },
      15_000,
    );
    expect(retries.every((l) => typeof l.retryInMs === "number" && (l.retryInMs as number) > 0)).toBe(true);
    expect(retries[0]?.err).toMatch(/cannot reach the console.*ECONNREFUSED/);
    expect(nftLoads()).toBe(loadsBefore);
    expect(loadedRevision()).toBe(revisionBefore);
    expect(running.proc.exitCode).toBeNull();

    await api.start();
    await waitFor("the missed revision applied", () => loadedRevision() === missed, 20_000);
    expect(running.logs.some((l) => l.msg === "the console is reachable again")).toBe(true);
  }, 60_000);

  it("leaves the rules in place on SIGTERM and re-applies the last good spec at start, even with the console down", async () => {
    const revision = loadedRevision();
    const loads = nftLoads();
    running.proc.kill("SIGTERM");
    expect(await running.exit).toBe(0);
    expect(loadedRevision()).toBe(revision);
    expect(nftLoads()).toBe(loads);

    await api.stop();
    writeFileSync(join(fakeState, "ruleset.nft"), "# flushed by a reboot\n");
    const restarted = agent(["run", "--state-dir", stateDir]);
    await waitFor("the last good spec re-applied", () => loadedRevision() === revision, 10_000);
    expect(restarted.logs.some((l) => l.msg === "re-applying the last good spec")).toBe(true);

    const status = agent(["status", "--state-dir", stateDir]);
    expect(await status.exit).toBe(0);
    // the gateway joined after the first publish, which advanced the epoch (pool slices)
    const { failoverEpoch } = await t.db.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    expect(status.stdout()).toMatch(new RegExp(`Running: +revision ${revision}, failover epoch ${failoverEpoch}`));
    expect(status.stdout()).not.toMatch(/gha_/);
    restarted.proc.kill("SIGTERM");
    expect(await restarted.exit).toBe(0);
    await api.start();
  }, 30_000);

  it("renders and applies a spec file once, exiting 1 with nft's error on failure", async () => {
    const lastGood = JSON.parse(readFileSync(join(stateDir, "last-good.json"), "utf8")) as {
      spec: { revision: number };
    };
    const specFile = join(work, "spec.json");
    writeFileSync(specFile, JSON.stringify(lastGood.spec));
    const render = agent(["render", "--spec", specFile]);
    expect(await render.exit).toBe(0);
    expect(render.stdout()).toMatch(/^# Gatehouse policy for gateway gw1 of cluster lab/);
    expect(render.stdout()).toMatch(/flush table inet gatehouse/);

    writeFileSync(join(fakeState, "fail-check"), "spec.nft:1:1-3: Error: syntax error, unexpected junk\n");
    try {
      const failed = agent(["apply", "--spec", specFile]);
      expect(await failed.exit).toBe(1);
      expect(failed.stderr() + failed.logs.map((l) => l.msg).join("\n")).toMatch(
        /apply failed: check: spec.nft:1:1-3: Error: syntax error/,
      );
    } finally {
      rmSync(join(fakeState, "fail-check"), { force: true });
    }
    const applied = agent(["apply", "--spec", specFile]);
    expect(await applied.exit).toBe(0);
    expect(applied.stdout()).toMatch(new RegExp(`applied revision ${lastGood.spec.revision}`));

    writeFileSync(specFile, JSON.stringify({ ...lastGood.spec, specVersion: 7 }));
    const refused = agent(["render", "--spec", specFile]);
    expect(await refused.exit).toBe(1);
  }, 30_000);
});

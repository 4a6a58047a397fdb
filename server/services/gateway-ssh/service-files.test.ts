import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_ENV, AGENT_NODE_FLAGS, agentEnvAssignments } from "../../../core/protocol/agent-runtime";
import { buildAgent } from "../../../scripts/build-agent";
import { agentLayout } from "./layout";
import { renderSupervisor, renderUnit, UnitTemplateError } from "./service-files";

const TEMPLATE = `[Unit]
Description=Gatehouse gateway agent

[Service]
ExecStart=/usr/bin/node --max-semi-space-size=1 /usr/local/bin/gatehouse-agent run --state-dir /var/lib/gatehouse-agent
Restart=always
RestartPreventExitStatus=78
`;

describe("the systemd unit", () => {
  it("runs the host's own node and keeps everything else of the shipped unit", () => {
    const unit = renderUnit(TEMPLATE, agentLayout(""), "/usr/local/bin/node");
    expect(unit).toBe(TEMPLATE.replace("ExecStart=/usr/bin/node", "ExecStart=/usr/local/bin/node"));
  });
  it("the shipped unit starts node with the agent's options", () => {
    const shipped = readFileSync(join(import.meta.dirname, "../../../agent/systemd/gatehouse-agent.service"), "utf8");
    const exec = shipped.split("\n").find((l) => l.startsWith("ExecStart="));
    expect(exec).toBe(
      `ExecStart=/usr/bin/node ${AGENT_NODE_FLAGS.join(" ")} /usr/local/bin/gatehouse-agent run --state-dir /var/lib/gatehouse-agent`,
    );
    expect(shipped.split("\n")).toContain(`Environment=${agentEnvAssignments().join(" ")}`);
  });
  it("the executable's own #! line starts node with the agent's options", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-agent-bundle-"));
    try {
      const { outfile } = await buildAgent(join(dir, "gatehouse-agent.mjs"));
      expect(readFileSync(outfile, "utf8").split("\n")[0]).toBe(
        `#!/usr/bin/env -S ${agentEnvAssignments().join(" ")} node ${AGENT_NODE_FLAGS.join(" ")}`,
      );
      // the kernel runs it through env(1), which sets the allocator's settings and starts node
      const run = spawnSync(outfile, ["--help"], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
  it("refuses a template without ExecStart", () => {
    expect(() => renderUnit("[Service]\n", agentLayout(""), "/usr/bin/node")).toThrow(UnitTemplateError);
  });
});

/**
 * The supervisor script under /bin/sh with a stand-in agent: a node script that logs each start
 * and exits with the status written in a file, or waits for SIGTERM when told to "hang".
 */
describe("the supervisor script", () => {
  let root = "";
  let supervisor: ChildProcess | null = null;
  afterEach(() => {
    if (supervisor && supervisor.exitCode === null) supervisor.kill("SIGKILL");
    const l = agentLayout(root);
    if (existsSync(l.agentPidFile)) {
      try {
        process.kill(Number(readFileSync(l.agentPidFile, "utf8")), "SIGKILL");
      } catch {}
    }
    rmSync(root, { recursive: true, force: true });
  });

  function setUp(firstExit: string) {
    root = mkdtempSync(join(tmpdir(), "gh-supervisor-"));
    const l = agentLayout(root);
    for (const d of [l.libDir, l.runDir, l.logDir, join(root, "usr/local/bin")]) mkdirSync(d, { recursive: true });
    writeFileSync(join(root, "exit"), firstExit);
    writeFileSync(
      l.bin,
      `const fs = require("node:fs");
       fs.writeFileSync(${JSON.stringify(join(root, "env"))}, JSON.stringify(process.env));
       fs.appendFileSync(${JSON.stringify(join(root, "starts"))}, "start " + process.argv.slice(2).join(" ") + "\\n");
       const how = fs.readFileSync(${JSON.stringify(join(root, "exit"))}, "utf8").trim();
       if (how === "hang") {
         process.on("SIGTERM", () => { fs.appendFileSync(${JSON.stringify(join(root, "starts"))}, "stopped\\n"); process.exit(0); });
         setInterval(() => {}, 1000);
       } else process.exit(Number(how));`,
    );
    writeFileSync(l.supervisor, renderSupervisor(l, process.execPath), { mode: 0o755 });
    const child = spawn("/bin/sh", [l.supervisor], { stdio: "ignore" });
    supervisor = child;
    const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    return { l, exited };
  }

  const starts = () => (existsSync(join(root, "starts")) ? readFileSync(join(root, "starts"), "utf8") : "");
  const until = async (what: string, check: () => boolean, ms = 8000) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("restarts an agent that exits, and stops for good when it is not enrolled (78)", async () => {
    const { l, exited } = setUp("3");
    await until("the first start", () => starts().includes("start"));
    expect(starts()).toContain(`start run --state-dir ${l.stateDir}`);
    // the agent runs with the allocator settings the unit gives it
    expect(JSON.parse(readFileSync(join(root, "env"), "utf8"))).toMatchObject(AGENT_ENV);
    expect(readFileSync(l.supervisorPidFile, "utf8").trim()).toBe(String(supervisor?.pid));
    writeFileSync(join(root, "exit"), "78");
    await until("the restart", () => starts().split("start").length - 1 >= 2);
    expect(await exited).toBe(78);
    expect(existsSync(l.supervisorPidFile)).toBe(false);
    const log = readFileSync(l.logFile, "utf8");
    expect(log).toContain("gatehouse-agent exited with status 3; restarting in 2 s");
    expect(log).toContain("is not enrolled (exit 78); not restarting");
  }, 15_000);

  it("passes SIGTERM on to the agent and cleans up its pid files", async () => {
    const { l, exited } = setUp("hang");
    await until("the agent", () => existsSync(l.agentPidFile) && starts().includes("start"));
    supervisor?.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(starts()).toContain("stopped");
    expect(existsSync(l.agentPidFile)).toBe(false);
    expect(existsSync(l.supervisorPidFile)).toBe(false);
  }, 15_000);
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VrrpState } from "../../core/protocol/agent-api";
import { buildAgent } from "../../scripts/build-agent";
import { enrollAndRun, type LabAgent, runAgent, waitFor } from "../failover-lab/agents";
import { type ConsoleApi, signIn } from "../failover-lab/api";
import { startTestConsole, TEST_USERS, type TestConsole } from "../failover-lab/console";
import { host } from "../lab/namespaces";
import { buildHaLab, type HaLab, type HaLabGateway, type HaLabOptions } from "./lab";
import { type HaCluster, type HaProvisionOptions, provisionHaCluster } from "./provision";

/**
 * The HA lab with everything around it: a console (the real handlers over SQLite), the cluster
 * created through its API, and the real agent enrolled and running on both gateways, each
 * starting its own keepalived and conntrackd. stop() ends it all, processes first.
 */

export interface HaSession {
  lab: HaLab;
  console: TestConsole;
  api: ConsoleApi;
  cluster: HaCluster;
  agents: Record<HaLabGateway, LabAgent>;
  /** the state of a group (default: the active/standby group) in each gateway's last report, through the console */
  states(group?: string): Promise<Record<HaLabGateway, VrrpState | null>>;
  /** waits until the console shows these states */
  waitStates(want: Partial<Record<HaLabGateway, VrrpState>>, timeoutMs?: number, group?: string): Promise<void>;
  /** kills the gateway's agent with SIGKILL (its daemons keep running) and starts it again */
  restartAgent(gw: HaLabGateway): Promise<LabAgent>;
  /** pids of keepalived's processes (parent and VRRP child) on a gateway, from its pid files */
  keepalivedPids(gw: HaLabGateway): number[];
  stop(): Promise<void>;
}

/** The keepalived and conntrackd binaries the agent runs; null when both are installed. */
export async function missingHaBinaries(): Promise<string | null> {
  const missing: string[] = [];
  for (const bin of ["keepalived", "conntrackd"]) {
    const r = await host.run(["sh", "-c", `command -v ${bin} || test -x /usr/sbin/${bin}`]);
    if (r.code !== 0) missing.push(bin);
  }
  return missing.length === 0 ? null : `${missing.join(" and ")} not installed (scripts/ensure-system-packages.sh)`;
}

const readPid = (path: string): number | null => {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
};

export async function startHaSession(
  opts: Partial<HaProvisionOptions> & { agentLogLevel?: string; lab?: HaLabOptions } = {},
): Promise<HaSession> {
  const work = mkdtempSync(join(tmpdir(), "gh-ha-"));
  let lab: HaLab | null = null;
  let console: TestConsole | null = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (lab !== null) {
      // the agents stop their daemons on SIGTERM; whatever is left in a gateway's namespace goes by pid
      await lab.destroy().catch(() => undefined);
    }
    if (console !== null) await console.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const { outfile } = await buildAgent(join(work, "gatehouse-agent.mjs"));
    console = await startTestConsole({ longPollMs: 5_000 });
    const api = await signIn(console.url, TEST_USERS.admin.username, TEST_USERS.admin.password);
    lab = await buildHaLab(opts.lab);
    const l = lab;
    const cluster = await provisionHaCluster(api, lab, { name: `ha-${lab.runId}`, ...opts });
    const started = await enrollAndRun(
      { gateways: [lab.gateways.a, lab.gateways.b], spawn: (ns, args, env) => l.spawn(ns, args, env) },
      {
        agentFile: outfile,
        workDir: join(work, "agents"),
        consoleUrl: console.url,
        gateways: [cluster.gateways.a, cluster.gateways.b],
        logLevel: opts.agentLogLevel ?? "info",
      },
    );
    const agents = { a: started[0] as LabAgent, b: started[1] as LabAgent };
    const states = async (group = "cluster") => {
      const list = await api.gateway.list.query({ clusterId: cluster.clusterId });
      const of = (id: string) =>
        list.gateways.find((g) => g.id === id)?.ha?.groups.find((x) => x.name === group)?.state ?? null;
      return { a: of(cluster.gateways.a.id), b: of(cluster.gateways.b.id) };
    };
    const session: HaSession = {
      lab,
      console,
      api,
      cluster,
      agents,
      states,
      async waitStates(want, timeoutMs = 20_000, group = "cluster") {
        await waitFor(
          `${group} states ${JSON.stringify(want)}`,
          async () => {
            const now = await states(group);
            return Object.entries(want).every(([k, v]) => now[k as HaLabGateway] === v);
          },
          timeoutMs,
          100,
        );
      },
      async restartAgent(gw) {
        const old = agents[gw];
        old.process.kill("SIGKILL");
        await old.process.exited;
        agents[gw] = runAgent(l, {
          agentFile: outfile,
          name: old.name,
          ns: old.ns,
          stateDir: old.stateDir,
          logLevel: opts.agentLogLevel ?? "info",
        });
        return agents[gw];
      },
      keepalivedPids(gw) {
        const dir = join(agents[gw].stateDir, "ha");
        return [readPid(join(dir, "keepalived.pid")), readPid(join(dir, "keepalived-vrrp.pid"))].filter(
          (p): p is number => p !== null,
        );
      },
      stop,
    };
    return session;
  } catch (e) {
    await stop();
    throw e;
  }
}

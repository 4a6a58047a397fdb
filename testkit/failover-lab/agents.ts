import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ClusterLab, LabProcess } from "./cluster-lab";

/**
 * The real agent (the bundled program an operator installs) for every gateway of a cluster lab:
 * enrolled with its one-time token, then run with `--netns`, so it talks to the console from the
 * host while nft, ip, conntrack and its probes run in the gateway's namespace.
 */

export interface LabAgent {
  name: string;
  ns: string;
  stateDir: string;
  process: LabProcess;
  /** the agent's JSON log lines so far */
  logs(): Array<Record<string, unknown>>;
}

function parseLogs(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the buffer's trimming
    }
  }
  return out;
}

/** What enrolling needs of a lab: its gateways' namespaces, in order, and a way to start processes. */
export type AgentLab = Pick<ClusterLab, "spawn"> & { gateways: ReadonlyArray<{ ns: string }> };

export async function enrollAndRun(
  lab: AgentLab,
  opts: {
    agentFile: string;
    workDir: string;
    consoleUrl: string;
    gateways: Array<{ name: string; enrollToken: string }>;
    logLevel?: string;
  },
): Promise<LabAgent[]> {
  const agents: LabAgent[] = [];
  for (const [i, g] of opts.gateways.entries()) {
    const labGw = lab.gateways[i];
    if (labGw === undefined) throw new Error(`the lab has no gateway ${i + 1}`);
    const stateDir = join(opts.workDir, g.name);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const enroll = lab.spawn(null, [
      process.execPath,
      opts.agentFile,
      "enroll",
      "--console",
      opts.consoleUrl,
      "--token",
      g.enrollToken,
      "--state-dir",
      stateDir,
      "--log-level",
      "warn",
    ]);
    const code = await enroll.exited;
    if (code !== 0) throw new Error(`enrolling ${g.name} failed (${code}): ${enroll.stderr()}`);
    agents.push(
      runAgent(lab, { agentFile: opts.agentFile, name: g.name, ns: labGw.ns, stateDir, logLevel: opts.logLevel }),
    );
  }
  return agents;
}

/** Starts an enrolled agent (again) on a lab gateway: `run` with its state directory and namespace. */
export function runAgent(
  lab: Pick<AgentLab, "spawn">,
  opts: { agentFile: string; name: string; ns: string; stateDir: string; logLevel?: string },
): LabAgent {
  const proc = lab.spawn(null, [
    process.execPath,
    opts.agentFile,
    "run",
    "--state-dir",
    opts.stateDir,
    "--netns",
    opts.ns,
    "--log-level",
    opts.logLevel ?? "info",
  ]);
  return { name: opts.name, ns: opts.ns, stateDir: opts.stateDir, process: proc, logs: () => parseLogs(proc.stderr()) };
}

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000, stepMs = 25) {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Where the agent's files live on a gateway. The standard layout matches the shipped systemd unit
 * (agent/systemd/gatehouse-agent.service); an install root moves every file under one directory,
 * for hosts that share a filesystem with others (test labs) and run the supervised service.
 */
export interface AgentLayout {
  root: string;
  /** the agent bundle, run as `node <bin>` */
  bin: string;
  /** an upload in progress, renamed over `bin` in one step */
  binNew: string;
  /** the build `bin` held before the last upgrade, for rolling back */
  binPrev: string;
  stateDir: string;
  credentialsFile: string;
  /** the supervised service's script, pid files and log */
  libDir: string;
  supervisor: string;
  runDir: string;
  supervisorPidFile: string;
  agentPidFile: string;
  logDir: string;
  logFile: string;
  /** the systemd unit */
  unitName: string;
  unitPath: string;
}

export const UNIT_NAME = "gatehouse-agent.service";

export function agentLayout(root: string): AgentLayout {
  const r = root.replace(/\/+$/, "");
  const bin = `${r}/usr/local/bin/gatehouse-agent`;
  const stateDir = `${r}/var/lib/gatehouse-agent`;
  const libDir = `${r}/usr/local/lib/gatehouse-agent`;
  const runDir = `${r}/run/gatehouse-agent`;
  const logDir = `${r}/var/log/gatehouse-agent`;
  return {
    root: r,
    bin,
    // no dot: node refuses to run a file with an extension it does not know
    binNew: `${bin}-new`,
    binPrev: `${bin}-prev`,
    stateDir,
    credentialsFile: `${stateDir}/credentials.json`,
    libDir,
    supervisor: `${libDir}/supervise.sh`,
    runDir,
    supervisorPidFile: `${runDir}/supervisor.pid`,
    agentPidFile: `${runDir}/agent.pid`,
    logDir,
    logFile: `${logDir}/agent.log`,
    unitName: UNIT_NAME,
    unitPath: `/etc/systemd/system/${UNIT_NAME}`,
  };
}

/** The directories an install needs, parents first: each is created only if missing and removed on undo only then. */
export function directoriesFor(layout: AgentLayout, mode: "systemd" | "supervised"): string[] {
  const dirs = new Set<string>();
  const withParents = (dir: string) => {
    const parts = dir.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) dirs.add(`/${parts.slice(0, i).join("/")}`);
  };
  const parent = (path: string) => path.slice(0, path.lastIndexOf("/"));
  withParents(parent(layout.bin));
  // the agent creates its state directory (mode 0700) itself; its parents come from here
  withParents(parent(layout.stateDir));
  if (mode === "supervised") {
    withParents(layout.libDir);
    withParents(layout.runDir);
    withParents(layout.logDir);
  }
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

import type { AgentLayout } from "./layout";

/**
 * Every command the console runs on a gateway, as argument vectors built from validated values.
 * A few need a shell (a pipe, a redirection, a loop): those are fixed `sh -c` scripts that take
 * their values as positional parameters ("$1", "$@"), never spliced into the script text.
 */

export type Argv = readonly string[];

/** Runs `argv` as root: directly when logged in as root, else through passwordless sudo. */
export function asRoot(argv: Argv, viaSudo: boolean): Argv {
  return viaSudo ? ["sudo", "-n", "--", ...argv] : argv;
}

export const REQUIRED_TOOLS = ["nft", "ip", "conntrack", "fping", "node", "sha256sum"] as const;
export const SYSTEMD_TOOLS = ["systemctl", "journalctl"] as const;
export const SUPERVISED_TOOLS = ["setsid"] as const;

const WHICH_ALL = 'for t do printf "%s=%s\\n" "$t" "$(command -v -- "$t")"; done';
const EXISTING = 'for p do if [ -e "$p" ]; then printf "%s\\n" "$p"; fi; done';
const WRITE_STDIN = 'umask 077 && cat > "$1"';
// mkdir(2) with a random name, mode 0700 whatever the umask; the fixed template behaves the same
// under GNU coreutils and BusyBox, and a root shell's TMPDIR cannot move it
const PRIVATE_DIR_TEMPLATE = "/tmp/gatehouse-enroll.XXXXXXXXXX";
const RMDIR_IF_THERE = '[ ! -e "$1" ] || rmdir -- "$1"';
const START_DETACHED = 'setsid -f "$1" </dev/null >/dev/null 2>&1';
const PID_ALIVE = 'p=$(cat -- "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"';
// Stops the process in pid file $1 if it really runs $2 (a reused pid is left alone), waiting up
// to 10 s before SIGKILL; exits 0 when nothing runs any more.
const STOP_PIDFILE = [
  'p=$(cat -- "$1" 2>/dev/null) || exit 0',
  'case "$p" in ""|*[!0-9]*) exit 0;; esac',
  'tr "\\000" " " < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$2" || exit 0',
  'kill -TERM "$p" 2>/dev/null || exit 0',
  "i=0",
  'while kill -0 "$p" 2>/dev/null; do',
  "  i=$((i+1))",
  '  if [ "$i" -gt 100 ]; then kill -KILL "$p" 2>/dev/null; sleep 0.2; break; fi',
  "  sleep 0.1",
  "done",
].join("\n");
// SNATed connections (conntrack -n) per reply destination, which is the pool address they got
const CONNTRACK_BY_REPLY_DST =
  "conntrack -L -n 2>/dev/null | awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^dst=/) { n++; if (n == 2) c[substr($i, 5)]++ } } END { for (a in c) print a, c[a] }'";
// routes in the agent's tables only, so a gateway with a full routing table does not send it all
const AGENT_ROUTES =
  "ip route show table all | awk '/ table (710[1-9]|71[1-9][0-9]|72[0-9][0-9]|73[0-4][0-9]|7350)( |$)/'";

export const probe = {
  os: ["uname", "-s"],
  uid: ["id", "-u"],
  sudo: ["sudo", "-n", "true"],
  pid1: ["cat", "/proc/1/comm"],
  /** sd_booted(): systemd runs as init when this directory exists */
  systemdBooted: ["test", "-d", "/run/systemd/system"],
  /** `name=path` per tool, path empty when missing */
  which: (tools: readonly string[]): Argv => ["sh", "-c", WHICH_ALL, "sh", ...tools],
  nodeVersion: (nodePath: string): Argv => [nodePath, "--version"],
  /** prints those of `paths` that exist */
  existing: (paths: readonly string[]): Argv => ["sh", "-c", EXISTING, "sh", ...paths],
} as const;

export const files = {
  /** writes stdin to `path`, created mode 0600 (chmod follows) */
  write: (path: string): Argv => ["sh", "-c", WRITE_STDIN, "sh", path],
  sha256: (path: string): Argv => ["sha256sum", "--", path],
  chmod: (mode: string, path: string): Argv => ["chmod", mode, "--", path],
  /** creates the directories in order (parents first); fails if any exists */
  mkdir: (dirs: readonly string[], mode = "0755"): Argv => ["mkdir", "-m", mode, "--", ...dirs],
  /** removes a directory only if empty (undo never deletes what someone else put there); gone already is fine */
  rmdir: (dir: string): Argv => ["sh", "-c", RMDIR_IF_THERE, "sh", dir],
  rm: (...paths: string[]): Argv => ["rm", "-f", "--", ...paths],
  /** creates a fresh directory only root can enter and prints its path (see isPrivateDir) */
  privateDir: ["mktemp", "-d", PRIVATE_DIR_TEMPLATE] as Argv,
  rmTree: (dir: string): Argv => ["rm", "-rf", "--", dir],
  /** an atomic replace: rename(2) within one directory */
  rename: (from: string, to: string): Argv => ["mv", "-f", "--", from, to],
  /** a second name for the same file, so the old build survives the rename over it */
  link: (from: string, to: string): Argv => ["ln", "-f", "--", from, to],
} as const;

export const agent = {
  version: (nodePath: string, bin: string): Argv => [nodePath, bin, "version"],
  /** the token is read from `tokenFile`: a command line is visible to every user of the host */
  enroll: (nodePath: string, layout: AgentLayout, consoleUrl: string, tokenFile: string): Argv => [
    nodePath,
    layout.bin,
    "enroll",
    "--console",
    consoleUrl,
    "--token-file",
    tokenFile,
    "--state-dir",
    layout.stateDir,
  ],
  status: (nodePath: string, layout: AgentLayout): Argv => [
    nodePath,
    layout.bin,
    "status",
    "--json",
    "--state-dir",
    layout.stateDir,
  ],
} as const;

export const systemd = {
  daemonReload: ["systemctl", "daemon-reload"],
  enable: (unit: string): Argv => ["systemctl", "enable", "--", unit],
  disableNow: (unit: string): Argv => ["systemctl", "disable", "--now", "--", unit],
  start: (unit: string): Argv => ["systemctl", "start", "--", unit],
  stop: (unit: string): Argv => ["systemctl", "stop", "--", unit],
  isActive: (unit: string): Argv => ["systemctl", "is-active", "--", unit],
  journal: (unit: string, lines: number): Argv => [
    "journalctl",
    "--unit",
    unit,
    "--lines",
    String(lines),
    "--no-pager",
    "--output",
    "short-iso",
  ],
} as const;

export const supervised = {
  /** starts the supervisor in its own session, detached from the SSH channel */
  start: (layout: AgentLayout): Argv => ["sh", "-c", START_DETACHED, "sh", layout.supervisor],
  /** prints the supervisor's pid when it runs */
  pid: (layout: AgentLayout): Argv => ["sh", "-c", PID_ALIVE, "sh", layout.supervisorPidFile],
  stopSupervisor: (layout: AgentLayout): Argv => [
    "sh",
    "-c",
    STOP_PIDFILE,
    "sh",
    layout.supervisorPidFile,
    layout.supervisor,
  ],
  /** the agent itself, should the supervisor have died without stopping it */
  stopAgent: (layout: AgentLayout): Argv => ["sh", "-c", STOP_PIDFILE, "sh", layout.agentPidFile, layout.bin],
  logTail: (layout: AgentLayout, lines: number): Argv => ["tail", "-n", String(lines), "--", layout.logFile],
} as const;

export const diagnostics = {
  nftTable: (family: "inet", table: string): Argv => ["nft", "list", "table", family, table],
  ipRules: ["ip", "rule", "show"] as Argv,
  agentRoutes: ["sh", "-c", AGENT_ROUTES] as Argv,
  conntrackByAddress: ["sh", "-c", CONNTRACK_BY_REPLY_DST] as Argv,
} as const;

/** Parses `name=path` lines from probe.which. */
export function parseWhich(stdout: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i <= 0) continue;
    const path = line.slice(i + 1).trim();
    out[line.slice(0, i)] = path.startsWith("/") ? path : null;
  }
  return out;
}

/** Whether `path` is what files.privateDir makes, so removing it again cannot hit anything else. */
export function isPrivateDir(path: string): boolean {
  const prefix = PRIVATE_DIR_TEMPLATE.replace(/X+$/, "");
  return path.startsWith(prefix) && /^[A-Za-z0-9]{10}$/.test(path.slice(prefix.length));
}

/** The hash sha256sum printed, or null. */
export function parseSha256(stdout: string): string | null {
  const m = /^([0-9a-f]{64})\b/.exec(stdout.trim());
  return m?.[1] ?? null;
}

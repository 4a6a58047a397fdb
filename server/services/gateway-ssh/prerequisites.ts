import { REQUIRED_TOOLS, SUPERVISED_TOOLS, SYSTEMD_TOOLS } from "./commands";
import type { ServiceMode, ServiceModeRequest } from "./inputs";

/**
 * Whether a host can run the agent, decided from what the probes found. Pure: every problem is
 * collected (not just the first), each in words that say what to install or change.
 */

/** the bundle is an ES module without a file extension: Node runs those from 20.19 on (module syntax detection) */
export const MIN_NODE = { major: 20, minor: 19 };
/** what a systemd ExecStart line and the supervisor script can hold without quoting trouble */
const SAFE_PATH = /^\/[A-Za-z0-9._+/-]+$/;

export interface ProbeFindings {
  /** `uname -s` */
  os: string;
  /** `id -u`; null when it could not be read */
  uid: number | null;
  /** `sudo -n true` succeeded; null when not tried (root) */
  sudo: boolean | null;
  /** `/proc/1/comm` */
  pid1: string;
  /** /run/systemd/system exists */
  systemdBooted: boolean;
  /** tool -> absolute path, null when not in root's PATH */
  tools: Record<string, string | null>;
  /** `node --version`, empty when node is missing or failed */
  nodeVersion: string;
  /** files of an earlier install that already exist */
  existing: string[];
}

export interface HostPlan {
  viaSudo: boolean;
  mode: ServiceMode;
  nodePath: string;
  nodeVersion: string;
}

export type PrerequisiteVerdict = { ok: true; plan: HostPlan } | { ok: false; problems: string[] };

const PACKAGE_HINT: Record<string, string> = {
  nft: "the nftables package",
  ip: "iproute2",
  conntrack: "the conntrack package",
  fping: "the fping package",
  node: "Node.js 20.19 or newer",
  sha256sum: "coreutils",
  systemctl: "systemd",
  journalctl: "systemd",
  setsid: "util-linux",
};

/** "v20.19.1" -> [20, 19]; null when it is not a Node version */
export function nodeVersionOf(version: string): [number, number] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export function nodeIsSuitable(version: string): boolean {
  const v = nodeVersionOf(version);
  return v !== null && (v[0] > MIN_NODE.major || (v[0] === MIN_NODE.major && v[1] >= MIN_NODE.minor));
}

/** systemd when it is the init system, else the supervised runner; an explicit request must fit the host. */
export function chooseServiceMode(
  requested: ServiceModeRequest,
  findings: Pick<ProbeFindings, "pid1" | "systemdBooted">,
  installRoot: string,
): { ok: true; mode: ServiceMode } | { ok: false; problem: string } {
  const hasSystemd = findings.pid1.trim() === "systemd" && findings.systemdBooted;
  if (requested === "systemd" && !hasSystemd) {
    return {
      ok: false,
      problem: `systemd is not the init system here (PID 1 is "${findings.pid1.trim() || "unknown"}"); choose the supervised service`,
    };
  }
  if (requested === "systemd" && installRoot !== "") {
    return { ok: false, problem: "an install directory works only with the supervised service, not with systemd" };
  }
  if (requested !== "auto") return { ok: true, mode: requested };
  return { ok: true, mode: hasSystemd && installRoot === "" ? "systemd" : "supervised" };
}

export function evaluatePrerequisites(
  f: ProbeFindings,
  opts: { requested: ServiceModeRequest; installRoot: string; username: string },
): PrerequisiteVerdict {
  const problems: string[] = [];
  if (f.os.trim() !== "Linux") problems.push(`the host runs ${f.os.trim() || "an unknown system"}, not Linux`);
  const viaSudo = f.uid !== 0;
  if (f.uid === null) problems.push("cannot tell which user the login runs as (id -u failed)");
  else if (viaSudo && f.sudo !== true) {
    problems.push(
      `"${opts.username}" is not root and cannot use sudo without a password (sudo -n true failed); ` +
        "log in as root or allow this user passwordless sudo",
    );
  }
  const choice = chooseServiceMode(opts.requested, f, opts.installRoot);
  if (!choice.ok) problems.push(choice.problem);
  // without root the probes saw nothing of root's PATH: listing every tool as missing would mislead
  if (f.uid === null || (viaSudo && f.sudo !== true)) return { ok: false, problems };
  const needed = [
    ...REQUIRED_TOOLS,
    ...(choice.ok && choice.mode === "systemd" ? SYSTEMD_TOOLS : []),
    ...(choice.ok && choice.mode === "supervised" ? SUPERVISED_TOOLS : []),
  ];
  const missing = needed.filter((t) => !f.tools[t]);
  for (const tool of missing) {
    problems.push(`${tool} is not installed (not found in root's PATH; install ${PACKAGE_HINT[tool] ?? tool})`);
  }
  const nodePath = f.tools.node ?? "";
  if (nodePath !== "" && !SAFE_PATH.test(nodePath)) {
    problems.push(`node is at "${nodePath}"; the service needs a path of letters, digits and . _ - + / only`);
  }
  if (nodePath !== "") {
    if (nodeVersionOf(f.nodeVersion) === null) problems.push(`${nodePath} --version did not print a Node version`);
    else if (!nodeIsSuitable(f.nodeVersion)) {
      problems.push(
        `${nodePath} is Node ${f.nodeVersion.trim()}; the agent needs Node ${MIN_NODE.major}.${MIN_NODE.minor} or newer`,
      );
    }
  }
  if (f.existing.length > 0) {
    problems.push(
      `an agent is already installed here (${f.existing.join(", ")}); upgrade it from its gateway's page, ` +
        "or remove it before enrolling this host again",
    );
  }
  if (problems.length > 0 || !choice.ok) return { ok: false, problems };
  return { ok: true, plan: { viaSudo, mode: choice.mode, nodePath, nodeVersion: f.nodeVersion.trim() } };
}

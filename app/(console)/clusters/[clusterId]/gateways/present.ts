import type { Connection, Sync } from "@/server/services/gateways/state";

/** Words and badge tones for gateway states: pure, so the page and its tests agree. */
export type Tone = "ok" | "warn" | "danger" | "";

export const CONNECTION_LABELS: Record<Connection, { label: string; tone: Tone; hint: string }> = {
  online: { label: "online", tone: "ok", hint: "" },
  offline: { label: "offline", tone: "danger", hint: "" },
  never_seen: { label: "enrolled", tone: "warn", hint: "enrolled, has not reported yet" },
  awaiting_enrollment: { label: "awaiting enrollment", tone: "warn", hint: "run the enroll command on the gateway" },
  enrollment_expired: { label: "enrollment expired", tone: "danger", hint: "issue a new enrollment token" },
  revoked: { label: "revoked", tone: "danger", hint: "no valid token; issue a new enrollment token" },
};

interface SyncInput {
  sync: Sync;
  appliedRevision: number | null;
  appliedEpoch: number | null;
}

const rev = (revision: number, epoch: number | null) => `#${revision}${epoch ? ` (failover epoch ${epoch})` : ""}`;

export function describeSync(
  g: SyncInput,
  published: { revision: number; failoverEpoch: number },
): { label: string; tone: Tone; detail: string } {
  const running =
    g.appliedRevision === null ? "runs nothing from Gatehouse yet" : `runs ${rev(g.appliedRevision, g.appliedEpoch)}`;
  const target = `published ${rev(published.revision, published.failoverEpoch)}`;
  switch (g.sync) {
    case "in_sync":
      return { label: "in sync", tone: "ok", detail: `${running}` };
    case "behind":
      return { label: "behind", tone: "warn", detail: `${running}; ${target}` };
    case "apply_failed":
      return { label: "apply failed", tone: "danger", detail: `${running}; ${target}` };
    case "not_applied":
      return { label: "not applied", tone: "warn", detail: `${running}; ${target}` };
    case "nothing_published":
      return { label: "nothing published", tone: "", detail: "publish a revision to give gateways rules" };
  }
}

export function relativeTime(at: Date, now: Date): string {
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return at.toLocaleString();
}

/** Where the enroll commands put the one-time token on the gateway, for the moment it is used. */
export const ENROLL_TOKEN_FILE = "/root/gatehouse-enroll.token";

/**
 * The commands an operator runs on the gateway to enroll it and start the agent. The token goes
 * into a file readable by root only (printf is a shell builtin, so the token never shows in the
 * process list) and the agent reads it with --token-file; the file is removed once used.
 */
export function enrollCommands(consoleUrl: string, token: string): string {
  const base = consoleUrl.replace(/\/+$/, "");
  return [
    `(umask 077 && printf '%s\\n' '${token}' > ${ENROLL_TOKEN_FILE})`,
    `gatehouse-agent enroll --console ${base} --token-file ${ENROLL_TOKEN_FILE} && rm -f ${ENROLL_TOKEN_FILE}`,
    "systemctl enable --now gatehouse-agent",
  ].join("\n");
}

/** Where the agent's one file and its systemd unit go on a gateway. */
export const AGENT_INSTALL_PATHS = {
  agent: "/usr/local/bin/gatehouse-agent",
  unit: "/etc/systemd/system/gatehouse-agent.service",
} as const;

/**
 * The commands that install the agent from the console itself: its one file (run by node 20 or
 * later) and its systemd unit, from /api/agent/v1/download/.
 */
export function installCommands(consoleUrl: string): string {
  const base = `${consoleUrl.replace(/\/+$/, "")}/api/agent/v1/download`;
  return [
    `curl -fsS -o ${AGENT_INSTALL_PATHS.agent} ${base}/gatehouse-agent && chmod 0755 ${AGENT_INSTALL_PATHS.agent}`,
    `curl -fsS -o ${AGENT_INSTALL_PATHS.unit} ${base}/gatehouse-agent.service && systemctl daemon-reload`,
  ].join("\n");
}

/**
 * The gist of a failed apply for the table: nft's own "Error: ..." message when there is one
 * (its full output, with the file position and carets, stays available on demand).
 */
export function applyErrorGist(error: string): string {
  const nft = /Error: ([^\n]+)/.exec(error);
  const first = (nft?.[1] ?? error.split("\n").find((l) => l.trim() !== "") ?? "").trim();
  return first.length > 160 ? `${first.slice(0, 157)}...` : first;
}

/** The revision of the last apply attempt, which the agent reports with its facts. */
export function attemptedRevision(facts: Record<string, unknown>): number | null {
  const last = facts.lastApply;
  if (typeof last !== "object" || last === null) return null;
  const revision = (last as { revision?: unknown }).revision;
  return typeof revision === "number" ? revision : null;
}

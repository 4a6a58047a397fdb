import type { StepState } from "@/server/services/gateway-ssh/jobs";
import type { Tone } from "./present";

/** Words and tones for SSH jobs and host keys: pure, so the pages and their tests agree. */

export const STEP_LABELS: Record<StepState, { mark: string; label: string; tone: Tone }> = {
  pending: { mark: "○", label: "waiting", tone: "" },
  running: { mark: "◐", label: "running", tone: "warn" },
  done: { mark: "✓", label: "done", tone: "ok" },
  failed: { mark: "✗", label: "failed", tone: "danger" },
  skipped: { mark: "–", label: "skipped", tone: "" },
  undone: { mark: "↺", label: "undone", tone: "warn" },
};

export type JobStateName = "running" | "succeeded" | "failed" | "interrupted";

export const JOB_STATES: Record<JobStateName, { label: string; tone: Tone }> = {
  running: { label: "running", tone: "warn" },
  succeeded: { label: "succeeded", tone: "ok" },
  failed: { label: "failed", tone: "danger" },
  interrupted: { label: "interrupted", tone: "danger" },
};

export const jobIsOver = (state: JobStateName) => state !== "running";

/** How an admin checks a fingerprint on the gateway itself, for the key type the console was shown. */
export function fingerprintCheckCommand(algorithm: string): string {
  const file =
    algorithm === "ssh-ed25519"
      ? "ssh_host_ed25519_key.pub"
      : algorithm.startsWith("ecdsa-")
        ? "ssh_host_ecdsa_key.pub"
        : algorithm === "ssh-rsa"
          ? "ssh_host_rsa_key.pub"
          : "ssh_host_*_key.pub";
  return `ssh-keygen -lf /etc/ssh/${file}`;
}

/** "root@gw1.example.net:2222", with IPv6 addresses in brackets. */
export function sshTargetLabel(t: { username: string; host: string; port: number }): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `${t.username}@${host}${t.port === 22 ? "" : `:${t.port}`}`;
}

/** Whether the console's build differs from what the gateway reports running. */
export function upgradeAvailable(agentVersion: string, bundleVersion: string): boolean {
  return bundleVersion !== "" && agentVersion !== "" && agentVersion !== bundleVersion;
}

import { setTimeout as delay } from "node:timers/promises";
import type { Db } from "../../db";
import { supervised, systemd } from "./commands";
import type { ServiceMode } from "./inputs";
import type { AgentLayout } from "./layout";
import { compactLog } from "./log-text";
import { HostProblem, type RemoteHost } from "./remote";

export { compactLog };

/** Starting, stopping and watching the agent's service, the same way for enrollment and upgrades. */

const SUPERVISOR_START_MS = 5_000;

/** 8000 -> "8 s", 200 -> "0.2 s" */
export const seconds = (ms: number) => `${ms >= 10_000 ? Math.round(ms / 1000) : Number((ms / 1000).toFixed(1))} s`;

export async function startAgentService(remote: RemoteHost, layout: AgentLayout, mode: ServiceMode): Promise<string> {
  if (mode === "systemd") {
    await remote.must("systemctl start", systemd.start(layout.unitName), { timeoutMs: 60_000 });
    return "started the systemd service";
  }
  await remote.must("starting the supervisor", supervised.start(layout), { timeoutMs: 15_000 });
  const until = Date.now() + SUPERVISOR_START_MS;
  for (;;) {
    const r = await remote.runAsRoot(supervised.pid(layout), { timeoutMs: 10_000 });
    const pid = r.stdout.trim();
    if (r.code === 0 && /^\d+$/.test(pid)) return `supervisor running as pid ${pid}`;
    if (Date.now() > until) {
      const log = await agentLogTail(remote, layout, mode, 10).catch(() => "");
      throw new HostProblem(
        `the supervisor did not start within ${seconds(SUPERVISOR_START_MS)}${log ? `; its log ends with:\n${compactLog(log)}` : ""}`,
      );
    }
    await delay(100);
  }
}

export async function stopAgentService(remote: RemoteHost, layout: AgentLayout, mode: ServiceMode): Promise<void> {
  if (mode === "systemd") {
    await remote.must("systemctl stop", systemd.stop(layout.unitName), { timeoutMs: 60_000 });
    return;
  }
  await remote.must("stopping the supervisor", supervised.stopSupervisor(layout), { timeoutMs: 30_000 });
  await remote.must("stopping the agent", supervised.stopAgent(layout), { timeoutMs: 30_000 });
}

export async function agentLogTail(
  remote: RemoteHost,
  layout: AgentLayout,
  mode: ServiceMode,
  lines: number,
): Promise<string> {
  const argv = mode === "systemd" ? systemd.journal(layout.unitName, lines) : supervised.logTail(layout, lines);
  const r = await remote.runAsRoot(argv, { timeoutMs: 15_000, maxOutputBytes: 256 * 1024 });
  return (r.stdout || r.stderr).trim();
}

/**
 * Waits until the gateway's agent reports with `version` after `since`. The agent reports as soon
 * as it starts, so a report after `since` with the right version means the new process is up and
 * talks to the console.
 */
export async function waitForAgentReport(
  db: Db,
  gatewayId: string,
  opts: { version: string; since: Date; timeoutMs: number; pollMs: number },
): Promise<{ ok: true; seenAt: Date } | { ok: false; lastVersion: string; lastSeenAt: Date | null }> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    const gw = await db.gateway.findUnique({
      where: { id: gatewayId },
      select: { lastSeenAt: true, agentVersion: true },
    });
    if (gw === null) return { ok: false, lastVersion: "", lastSeenAt: null };
    if (gw.lastSeenAt !== null && gw.lastSeenAt.getTime() >= opts.since.getTime() && gw.agentVersion === opts.version) {
      return { ok: true, seenAt: gw.lastSeenAt };
    }
    if (Date.now() >= until) return { ok: false, lastVersion: gw.agentVersion, lastSeenAt: gw.lastSeenAt };
    await delay(opts.pollMs);
  }
}

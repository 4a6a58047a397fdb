import { HealthService, type HealthServiceDeps } from "../../agent/health/service";
import { execSpawner } from "../../agent/health/spawner";
import { createLogger } from "../../agent/log";
import type { Lab } from "./lab";

/**
 * The agent's health service (probes, local failover, dynamic uplinks) running in the test
 * process against the lab's gateway namespace, as `gatehouse-agent run --netns` does, without a
 * console: its reports go nowhere. stop() ends its probes and loops; the datapath keeps its rules.
 */
export function startHealthService(
  lab: Lab,
  opts: Partial<
    Pick<
      HealthServiceDeps,
      | "uplinkPollMs"
      | "setIpRules"
      | "onInterfacesChanged"
      | "spawner"
      | "ruleCounters"
      | "ruleCounterIntervalMs"
      | "ruleCounterIdleMs"
      | "ruleCounterReadShare"
      | "poolUsageIntervalMs"
      | "countIntervalMs"
    >
  > = {},
): { health: HealthService; stop: () => Promise<void> } {
  const prefix = ["ip", "netns", "exec", lab.ns.gateway];
  const health = new HealthService({
    runner: lab.runner(lab.ns.gateway),
    spawner: opts.spawner ?? execSpawner({ prefix }),
    log: createLogger(process.env.LAB_AGENT_LOG === "1" ? "info" : "error"),
    agentVersion: "lab",
    // no console: every event counts as recorded
    post: async (report) => ({ ok: true, recorded: report.events.map((e) => e.id) }),
    ruleCheckIntervalMs: 60_000,
    reportIntervalMs: 60_000,
    ...opts,
  });
  const abort = new AbortController();
  const running = health.run(abort.signal);
  return {
    health,
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

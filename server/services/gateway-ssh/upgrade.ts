import { conflict, invalid } from "../../errors";
import { logger } from "../../log";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { getGatewayOrThrow } from "../gateways/gateways";
import { type GatewaySession, openGatewaySession, secretKeyFor } from "./access";
import {
  agentLogTail,
  compactLog,
  seconds,
  startAgentService,
  stopAgentService,
  waitForAgentReport,
} from "./agent-service";
import type { AgentBundle } from "./bundle";
import { agent, files, parseWhich, probe } from "./commands";
import type { GatewaySshDeps } from "./deps";
import type { ServiceMode } from "./inputs";
import { assertNoRunningJob, JobRecorder } from "./jobs";
import { chooseServiceMode } from "./prerequisites";
import { HostProblem } from "./remote";
import { messageOf, runStep, StepFailure } from "./steps";

/**
 * Pushing the console's agent build to gateways. One gateway: upload beside the running build,
 * check it runs, swap it in with one rename (the old build keeps a second name for rollback),
 * restart, and wait until the agent reports the new version. A cluster: the same for each
 * gateway in name order, one at a time, stopping at the first failure so the gateways after it
 * keep running what they ran. A gateway whose new build does not come up is rolled back.
 */

export const UPGRADE_STEPS = [
  { key: "connect", label: "Log in over SSH" },
  { key: "check", label: "Check the installed agent" },
  { key: "upload", label: "Upload the new build" },
  { key: "swap", label: "Swap it in" },
  { key: "restart", label: "Restart the agent" },
  { key: "online", label: "Wait for the new version to report" },
] as const;
type UpgradeStepKey = (typeof UPGRADE_STEPS)[number]["key"];

/** Runs one sub-step of a gateway's upgrade and reports it wherever the job shows progress. */
type StepRunner = <T>(key: UpgradeStepKey, fn: () => Promise<T>, summary?: (v: T) => string) => Promise<T>;

export interface UpgradeOutcome {
  from: string;
  to: string;
}

export class UpgradeFailure extends StepFailure {
  override name = "UpgradeFailure";
  constructor(
    message: string,
    stepKey: UpgradeStepKey,
    readonly from: string,
    readonly rolledBack: boolean,
  ) {
    super(stepKey, UPGRADE_STEPS.find((s) => s.key === stepKey)?.label ?? stepKey, message);
  }
}

async function modeOf(session: GatewaySession): Promise<ServiceMode> {
  if (session.access.serviceMode) return session.access.serviceMode;
  const [pid1, booted] = await Promise.all([
    session.remote.run(probe.pid1, { timeoutMs: 15_000 }),
    session.remote.run(probe.systemdBooted, { timeoutMs: 15_000 }),
  ]);
  const choice = chooseServiceMode(
    "auto",
    { pid1: pid1.stdout, systemdBooted: booted.code === 0 },
    session.access.installRoot,
  );
  if (!choice.ok) throw new HostProblem(choice.problem);
  return choice.mode;
}

/** Upgrades one gateway; throws UpgradeFailure (after rolling back when the swap happened). */
export async function upgradeGateway(
  deps: GatewaySshDeps,
  gatewayId: string,
  bundle: AgentBundle,
  step: StepRunner,
): Promise<UpgradeOutcome> {
  let session: GatewaySession | null = null;
  let from = "";
  let swapped = false;
  let failedAt: UpgradeStepKey = "connect";
  const tracked: StepRunner = (key, fn, summary) => {
    failedAt = key;
    return step(key, fn, summary);
  };
  try {
    session = await tracked(
      "connect",
      () => openGatewaySession(deps, gatewayId),
      (s) => `logged in as ${s.access.username}`,
    );
    const { remote, layout } = session;
    const current = session;
    const checked = await tracked(
      "check",
      async () => {
        const mode = await modeOf(current);
        const nodePath = parseWhich(await remote.must("looking for node", probe.which(["node"]))).node;
        if (!nodePath) throw new HostProblem("node is not in root's PATH any more");
        const wanted = [layout.bin, mode === "systemd" ? layout.unitPath : layout.supervisor];
        const found = (await remote.must("looking for the installed agent", probe.existing(wanted))).split("\n");
        const missing = wanted.filter((p) => !found.includes(p));
        if (missing.length > 0)
          throw new HostProblem(`the agent is not installed as expected: ${missing.join(", ")} missing`);
        from = (
          await remote.must("asking the installed agent its version", agent.version(nodePath, layout.bin))
        ).trim();
        return { mode, nodePath };
      },
      (c) => `${from} running as a ${c.mode} service`,
    );
    await tracked(
      "upload",
      async () => {
        try {
          await remote.writeFile(layout.binNew, bundle.bytes, "0755", "uploading the new build");
          const version = (
            await remote.must("running the new build", agent.version(checked.nodePath, layout.binNew))
          ).trim();
          if (version !== bundle.version) {
            throw new HostProblem(`the uploaded build reports version "${version}", expected "${bundle.version}"`);
          }
        } catch (e) {
          await remote.runAsRoot(files.rm(layout.binNew)).catch(() => {});
          throw e;
        }
      },
      () => `${bundle.version} (${Math.round(bundle.bytes.length / 1024)} KiB) checked`,
    );
    await tracked(
      "swap",
      async () => {
        await remote.must("keeping the previous build", files.link(layout.bin, layout.binPrev));
        await remote.must("swapping in the new build", files.rename(layout.binNew, layout.bin));
        swapped = true;
      },
      () => `${layout.bin} is ${bundle.version}; ${from} kept as ${layout.binPrev}`,
    );
    const since = await tracked(
      "restart",
      async () => {
        await stopAgentService(remote, layout, checked.mode);
        const at = new Date();
        await startAgentService(remote, layout, checked.mode);
        return at;
      },
      () => "restarted",
    );
    await tracked(
      "online",
      async () => {
        const seen = await waitForAgentReport(deps.db, gatewayId, {
          version: bundle.version,
          since,
          timeoutMs: deps.onlineTimeoutMs,
          pollMs: deps.onlinePollMs,
        });
        if (seen.ok) return;
        const log = await agentLogTail(remote, layout, checked.mode, 15).catch(() => "");
        throw new HostProblem(
          `${bundle.version} did not report to the console within ${seconds(deps.onlineTimeoutMs)}` +
            (log ? `. Its log ends with:\n${compactLog(log)}` : ""),
        );
      },
      () => `online with ${bundle.version}`,
    );
    return { from, to: bundle.version };
  } catch (e) {
    let message = e instanceof StepFailure ? e.message : messageOf(e);
    let rolledBack = false;
    if (swapped && session !== null) {
      const { remote, layout } = session;
      try {
        await remote.must("restoring the previous build", files.rename(layout.binPrev, layout.bin));
        const mode = await modeOf(session);
        await stopAgentService(remote, layout, mode).catch(() => {});
        await startAgentService(remote, layout, mode);
        rolledBack = true;
        message += `; rolled back to ${from} and restarted it`;
      } catch (rollbackError) {
        message += `; rolling back to ${from} FAILED: ${messageOf(rollbackError)}`;
      }
    }
    throw new UpgradeFailure(message, failedAt, from, rolledBack);
  } finally {
    session?.remote.close();
  }
}

async function loadBundle(deps: GatewaySshDeps): Promise<AgentBundle> {
  try {
    return await deps.bundle();
  } catch (e) {
    throw invalid(`The agent build cannot be pushed: ${messageOf(e)}`);
  }
}

/** Gateways whose kept credentials an upgrade needs; names the ones without. */
async function requireCredentials(deps: GatewaySshDeps, gateways: Array<{ id: string; name: string }>): Promise<void> {
  const rows = await deps.db.gatewaySsh.findMany({
    where: { gatewayId: { in: gateways.map((g) => g.id) }, secret: { not: null } },
    select: { gatewayId: true },
  });
  const have = new Set(rows.map((r) => r.gatewayId));
  const without = gateways.filter((g) => !have.has(g.id)).map((g) => g.name);
  if (without.length > 0) {
    throw conflict(
      `No kept SSH credentials for ${without.map((n) => `"${n}"`).join(", ")}; store them on the gateway's page first`,
    );
  }
  secretKeyFor(deps, "open");
}

async function auditUpgrade(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  gateway: { id: string; name: string; clusterId: string },
  after: Record<string, unknown>,
): Promise<void> {
  try {
    await deps.db.$transaction((tx) =>
      recordAudit(tx, {
        actor,
        meta,
        action: "gateway.ssh_upgrade",
        clusterId: gateway.clusterId,
        targetType: "gateway",
        targetId: gateway.id,
        after: { name: gateway.name, ...after },
      }),
    );
  } catch (e) {
    logger.error({ err: e, gatewayId: gateway.id }, "cannot record the upgrade's audit event");
  }
}

export async function startUpgrade(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: { gatewayId: string },
): Promise<{ jobId: string; done: Promise<void> }> {
  const gateway = await getGatewayOrThrow(deps.db, input.gatewayId);
  await requireCredentials(deps, [gateway]);
  await assertNoRunningJob(deps.db, { gatewayIds: [gateway.id] });
  const bundle = await loadBundle(deps);
  const job = await JobRecorder.create(deps.db, {
    clusterId: gateway.clusterId,
    gatewayId: gateway.id,
    kind: "upgrade",
    title: `Upgrade ${gateway.name} to ${bundle.version}`,
    steps: [...UPGRADE_STEPS],
    actor,
  });
  const done = (async () => {
    try {
      const outcome = await upgradeGateway(deps, gateway.id, bundle, (key, fn, summary) =>
        runStep(job, key, fn, summary),
      );
      await job.finish("succeeded");
      await auditUpgrade(deps, actor, meta, gateway, { outcome: "succeeded", ...outcome, jobId: job.id });
    } catch (e) {
      const f = e instanceof UpgradeFailure ? e : null;
      await job.finish("failed", `${f?.stepLabel ?? "The upgrade"} failed: ${messageOf(e)}`);
      await auditUpgrade(deps, actor, meta, gateway, {
        outcome: "failed",
        from: f?.from ?? "",
        to: bundle.version,
        failedStep: f?.stepKey ?? "",
        rolledBack: f?.rolledBack ?? false,
        error: messageOf(e).slice(0, 2000),
        jobId: job.id,
      });
    }
  })().catch((e: unknown) => logger.error({ err: e, jobId: job.id }, "upgrade job crashed"));
  return { jobId: job.id, done };
}

/**
 * Upgrades every gateway of a cluster, one at a time in name order. The first failure ends the
 * job: the gateways after it are not touched at all. Gateways that already run the build are
 * passed over.
 */
export async function startClusterUpgrade(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: { clusterId: string },
): Promise<{ jobId: string; done: Promise<void> }> {
  const cluster = await getClusterOrThrow(deps.db, input.clusterId);
  const gateways = await deps.db.gateway.findMany({
    where: { clusterId: cluster.id },
    orderBy: { name: "asc" },
    select: { id: true, name: true, clusterId: true, agentVersion: true },
  });
  if (gateways.length === 0) throw invalid(`Cluster "${cluster.name}" has no gateways to upgrade`);
  const bundle = await loadBundle(deps);
  const pending = gateways.filter((g) => g.agentVersion !== bundle.version);
  await requireCredentials(deps, pending);
  await assertNoRunningJob(deps.db, { gatewayIds: gateways.map((g) => g.id), clusterUpgrade: cluster.id });
  const job = await JobRecorder.create(deps.db, {
    clusterId: cluster.id,
    gatewayId: null,
    kind: "upgrade_cluster",
    title: `Upgrade the gateways of ${cluster.name} to ${bundle.version}`,
    steps: gateways.map((g) => ({ key: g.id, label: g.name })),
    actor,
  });
  const done = (async () => {
    const upgraded: string[] = [];
    let failed: { name: string; error: string } | null = null;
    for (const [i, gw] of gateways.entries()) {
      if (gw.agentVersion === bundle.version) {
        await job.end(gw.id, "skipped", `already runs ${bundle.version}`);
        continue;
      }
      await job.begin(gw.id, "starting");
      const sub: StepRunner = async (key, fn, summary) => {
        const label = UPGRADE_STEPS.find((s) => s.key === key)?.label ?? key;
        await job.note(gw.id, `${label}…`);
        try {
          const v = await fn();
          if (summary) await job.note(gw.id, `${label}: ${summary(v)}`);
          return v;
        } catch (e) {
          throw new StepFailure(key, label, messageOf(e));
        }
      };
      try {
        const outcome = await upgradeGateway(deps, gw.id, bundle, sub);
        upgraded.push(gw.name);
        await job.end(gw.id, "done", `${outcome.from} → ${outcome.to}, online`);
        await auditUpgrade(deps, actor, meta, gw, { outcome: "succeeded", ...outcome, jobId: job.id });
      } catch (e) {
        const f = e instanceof UpgradeFailure ? e : null;
        const error = `${f?.stepLabel ?? "The upgrade"} failed: ${messageOf(e)}`;
        failed = { name: gw.name, error };
        await job.end(gw.id, "failed", error);
        await auditUpgrade(deps, actor, meta, gw, {
          outcome: "failed",
          from: f?.from ?? gw.agentVersion,
          to: bundle.version,
          failedStep: f?.stepKey ?? "",
          rolledBack: f?.rolledBack ?? false,
          error: messageOf(e).slice(0, 2000),
          jobId: job.id,
        });
        for (const rest of gateways.slice(i + 1)) {
          await job.end(rest.id, "skipped", `not touched: ${gw.name} failed before it`);
        }
        break;
      }
    }
    const untouched = failed
      ? gateways.slice(gateways.findIndex((g) => g.name === failed?.name) + 1).map((g) => g.name)
      : [];
    await job.finish(failed ? "failed" : "succeeded", failed ? `${failed.name}: ${failed.error}` : "");
    try {
      await deps.db.$transaction((tx) =>
        recordAudit(tx, {
          actor,
          meta,
          action: "cluster.ssh_upgrade",
          clusterId: cluster.id,
          targetType: "cluster",
          targetId: cluster.id,
          after: {
            to: bundle.version,
            outcome: failed ? "failed" : "succeeded",
            upgraded,
            failed: failed?.name ?? null,
            untouched,
            jobId: job.id,
          },
        }),
      );
    } catch (e) {
      logger.error({ err: e, jobId: job.id }, "cannot record the cluster upgrade's audit event");
    }
  })().catch((e: unknown) => logger.error({ err: e, jobId: job.id }, "cluster upgrade job crashed"));
  return { jobId: job.id, done };
}

import { conflict, invalid } from "../../errors";
import { logger } from "../../log";
import type { SshAuth } from "../../ssh/types";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { createGateway, deleteGateway } from "../gateways/gateways";
import { checkedAuth, loginAsAdmin, saveAccess, sealAuth, secretKeyFor, sshAppError } from "./access";
import {
  agentLogTail,
  compactLog,
  seconds,
  startAgentService,
  stopAgentService,
  waitForAgentReport,
} from "./agent-service";
import type { AgentBundle } from "./bundle";
import { agent, files, parseWhich, probe, REQUIRED_TOOLS, SUPERVISED_TOOLS, SYSTEMD_TOOLS, systemd } from "./commands";
import type { GatewaySshDeps } from "./deps";
import type { EnrollInput } from "./inputs";
import { JobRecorder, assertNoRunningJob } from "./jobs";
import { type AgentLayout, agentLayout, directoriesFor } from "./layout";
import { evaluatePrerequisites, type HostPlan, type ProbeFindings } from "./prerequisites";
import { HostProblem, type RemoteHost } from "./remote";
import { renderSupervisor, renderUnit } from "./service-files";
import { messageOf, runStep, StepFailure, UndoStack } from "./steps";

/**
 * Adding a gateway over SSH, as one job of steps an admin watches: log in with the confirmed host
 * key, check the host, register the gateway, upload the agent, install its service, enroll it with
 * a fresh one-time token, start it and wait until it reports. When a step fails, everything the
 * steps before it installed is removed again (newest first), the gateway record included, and the
 * job says which step failed and why.
 */

export const ENROLL_STEPS = [
  { key: "connect", label: "Log in over SSH" },
  { key: "prerequisites", label: "Check the host" },
  { key: "register", label: "Register the gateway" },
  { key: "upload", label: "Upload the agent" },
  { key: "install", label: "Install the service" },
  { key: "enroll", label: "Enroll the agent" },
  { key: "start", label: "Start the agent" },
  { key: "online", label: "Wait for the agent to report" },
] as const;

const shared = globalThis as unknown as { gatehouseSshEnrolling?: Set<string> };
shared.gatehouseSshEnrolling ??= new Set<string>();
const enrolling = shared.gatehouseSshEnrolling;

export interface StartedJob {
  jobId: string;
  /** settles when the job ends; the tRPC layer lets it run in the background */
  done: Promise<void>;
}

/** Checks what can be checked at once (a bad key, a taken name, no secret key), then starts the job. */
export async function startEnrollment(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: EnrollInput,
): Promise<StartedJob> {
  const cluster = await getClusterOrThrow(deps.db, input.clusterId);
  const auth = checkedAuth(input.auth);
  const secretKey = input.keepCredentials ? secretKeyFor(deps, "store") : null;
  if (input.installRoot !== "" && input.serviceMode === "systemd") {
    throw invalid("An install directory works only with the supervised service, not with systemd", [
      { path: ["installRoot"], message: "works only with the supervised service" },
    ]);
  }
  const taken = await deps.db.gateway.findFirst({
    where: { clusterId: cluster.id, name: input.name },
    select: { id: true },
  });
  if (taken) throw conflict(`The cluster already has a gateway named "${input.name}"`);
  const title = `Enroll ${input.name} over SSH`;
  await assertNoRunningJob(deps.db, { enrollName: { clusterId: cluster.id, title } });
  // two enrollments of one host at once would both pass the "nothing installed yet" check
  const hostLock = `${input.host.toLowerCase()}:${input.port}:${input.installRoot}`;
  if (enrolling.has(hostLock)) throw conflict(`An enrollment of ${input.host}:${input.port} is already running`);
  let bundle: AgentBundle;
  try {
    bundle = await deps.bundle();
  } catch (e) {
    throw invalid(`The agent build cannot be pushed: ${messageOf(e)}`);
  }
  enrolling.add(hostLock);
  let job: JobRecorder;
  try {
    job = await JobRecorder.create(deps.db, {
      clusterId: cluster.id,
      gatewayId: null,
      kind: "enroll",
      title,
      steps: [...ENROLL_STEPS],
      actor,
    });
    await deps.db.$transaction((tx) =>
      recordAudit(tx, {
        actor,
        meta,
        action: "gateway.ssh_enroll_start",
        clusterId: cluster.id,
        targetType: "ssh_job",
        targetId: job.id,
        after: {
          name: input.name,
          host: input.host,
          port: input.port,
          username: input.username,
          hostKey: input.hostKey,
          authKind: auth.kind,
          keepCredentials: input.keepCredentials,
          serviceMode: input.serviceMode,
          installRoot: input.installRoot,
          consoleUrl: input.consoleUrl,
          agentVersion: bundle.version,
        },
      }),
    );
  } catch (e) {
    enrolling.delete(hostLock);
    throw e;
  }
  const done = runEnrollment(deps, actor, meta, input, { job, auth, secretKey, bundle })
    .catch((e: unknown) => {
      logger.error({ err: e, jobId: job.id }, "enrollment job crashed");
    })
    .finally(() => enrolling.delete(hostLock));
  return { jobId: job.id, done };
}

interface EnrollContext {
  job: JobRecorder;
  auth: SshAuth;
  secretKey: Buffer | null;
  bundle: AgentBundle;
}

async function runEnrollment(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: EnrollInput,
  { job, auth, secretKey, bundle }: EnrollContext,
): Promise<void> {
  const undo = new UndoStack();
  const layout = agentLayout(input.installRoot);
  const target = { host: input.host, port: input.port, username: input.username };
  let remote: RemoteHost | null = null;
  let gatewayId: string | null = null;
  let plan: HostPlan | null = null;
  let failure: StepFailure | null = null;
  try {
    const host = await runStep(
      job,
      "connect",
      () =>
        loginAsAdmin(deps, target, auth, input.hostKey).catch((e: unknown) => {
          throw sshAppError(e);
        }),
      (r) =>
        `logged in as ${input.username}${r.viaSudo ? " (root through sudo)" : ""}; host key ${input.hostKey.fingerprint}`,
    );
    remote = host;

    const hostPlan = await runStep(
      job,
      "prerequisites",
      async () => {
        const verdict = evaluatePrerequisites(await probeHost(host, layout), {
          requested: input.serviceMode,
          installRoot: input.installRoot,
          username: input.username,
        });
        if (!verdict.ok) throw new HostProblem(verdict.problems.join("; "));
        return verdict.plan;
      },
      (p) => `Linux, Node ${p.nodeVersion} at ${p.nodePath}, nft, ip, conntrack, fping; service: ${p.mode}`,
    );
    plan = hostPlan;
    host.viaSudo = hostPlan.viaSudo;

    const issued = await runStep(
      job,
      "register",
      async () => {
        const created = await createGateway(deps.db, actor, meta, {
          clusterId: input.clusterId,
          name: input.name,
          address: input.host,
        });
        gatewayId = created.id;
        undo.push("register", `remove the gateway record "${input.name}"`, () =>
          deleteGateway(deps.db, actor, meta, { id: created.id }),
        );
        await job.setGateway(created.id);
        await deps.db.$transaction(async (tx) => {
          await saveAccess(tx, created.id, {
            ...target,
            hostKey: input.hostKey,
            sealed: secretKey === null ? null : { authKind: auth.kind, secret: sealAuth(secretKey, created.id, auth) },
            serviceMode: hostPlan.mode,
            installRoot: input.installRoot,
          });
          await recordAudit(tx, {
            actor,
            meta,
            action: "gateway.ssh_credentials_set",
            clusterId: input.clusterId,
            targetType: "gateway",
            targetId: created.id,
            after: {
              ...target,
              hostKey: input.hostKey,
              authKind: secretKey === null ? null : auth.kind,
              credentialsKept: secretKey !== null,
              serviceMode: hostPlan.mode,
              installRoot: input.installRoot,
            },
          });
        });
        return created;
      },
      (c) => `gateway ${c.name} added; one-time enrollment token issued`,
    );

    await runStep(
      job,
      "upload",
      () => uploadAgent(host, layout, hostPlan, bundle, undo),
      () => `${bundle.version} (${Math.round(bundle.bytes.length / 1024)} KiB) at ${layout.bin}`,
    );

    await runStep(
      job,
      "install",
      () => installService(deps, host, layout, hostPlan, undo),
      (s) => s,
    );

    await runStep(
      job,
      "enroll",
      async () => {
        const existed = (await host.must("checking the state directory", probe.existing([layout.stateDir]))).trim();
        undo.push(
          "enroll",
          existed ? `remove the agent's files in ${layout.stateDir}` : `remove ${layout.stateDir}`,
          async () => {
            if (existed) {
              await host.must(
                "removing the agent's state",
                files.rm(layout.credentialsFile, `${layout.stateDir}/status.json`, `${layout.stateDir}/last-good.json`),
              );
            } else await host.must("removing the state directory", files.rmTree(layout.stateDir));
          },
        );
        // the token file sits outside the state directory, which the agent creates itself and
        // whose removal the undo above decides by what existed before
        const out = await host.withSecretFile("the enrollment token", issued.enrollToken, (tokenFile) =>
          host.must("gatehouse-agent enroll", agent.enroll(hostPlan.nodePath, layout, input.consoleUrl, tokenFile), {
            timeoutMs: 90_000,
          }),
        );
        return out.split("\n")[0] ?? "";
      },
      (line) => line,
    );

    const since = new Date();
    await runStep(
      job,
      "start",
      async () => {
        undo.push("start", "stop the agent", () => stopAgentService(host, layout, hostPlan.mode));
        return startAgentService(host, layout, hostPlan.mode);
      },
      (s) => s,
    );

    await runStep(
      job,
      "online",
      async () => {
        const seen = await waitForAgentReport(deps.db, issued.id, {
          version: bundle.version,
          since,
          timeoutMs: deps.onlineTimeoutMs,
          pollMs: deps.onlinePollMs,
        });
        if (seen.ok) return seen.seenAt;
        const log = await agentLogTail(host, layout, hostPlan.mode, 15).catch(() => "");
        throw new HostProblem(
          `the agent did not report to the console within ${seconds(deps.onlineTimeoutMs)}; ` +
            `check that the gateway can reach ${input.consoleUrl}${log ? `. Its log ends with:\n${compactLog(log)}` : ""}`,
        );
      },
      () => `online, reporting version ${bundle.version}`,
    );
  } catch (e) {
    failure = e instanceof StepFailure ? e : new StepFailure("unknown", "an unexpected point", messageOf(e));
  }

  if (failure === null) {
    await job.finish("succeeded");
    await auditOutcome(deps, actor, meta, input, job.id, gatewayId, {
      outcome: "succeeded",
      agentVersion: bundle.version,
      serviceMode: plan?.mode ?? null,
    });
    remote?.close();
    return;
  }

  let undoLines: string[] = [];
  if (undo.size > 0) {
    job.addStep("undo", "Undo what was installed");
    await job.begin("undo");
    const report = await undo.unwind(job);
    undoLines = report.lines;
    await job.end("undo", report.ok ? "done" : "failed", report.lines.join("\n"));
  }
  remote?.close();
  const error = `${failure.stepLabel} failed: ${failure.message}`;
  await job.finish("failed", error);
  await auditOutcome(deps, actor, meta, input, job.id, gatewayId, {
    outcome: "failed",
    failedStep: failure.stepKey,
    error: failure.message.slice(0, 2000),
    undone: undoLines,
    agentVersion: bundle.version,
    serviceMode: plan?.mode ?? null,
  });
}

async function auditOutcome(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: EnrollInput,
  jobId: string,
  gatewayId: string | null,
  after: Record<string, unknown>,
): Promise<void> {
  try {
    await deps.db.$transaction((tx) =>
      recordAudit(tx, {
        actor,
        meta,
        action: "gateway.ssh_enroll",
        clusterId: input.clusterId,
        targetType: gatewayId && after.outcome === "succeeded" ? "gateway" : "ssh_job",
        targetId: gatewayId && after.outcome === "succeeded" ? gatewayId : jobId,
        after: { name: input.name, host: input.host, port: input.port, jobId, ...after },
      }),
    );
  } catch (e) {
    logger.error({ err: e, jobId }, "cannot record the enrollment's audit event");
  }
}

/** Reads everything the prerequisite check needs, in a handful of commands. */
export async function probeHost(host: RemoteHost, layout: AgentLayout): Promise<ProbeFindings> {
  const timeoutMs = 20_000;
  const [os, uid, pid1, booted] = await Promise.all([
    host.run(probe.os, { timeoutMs }),
    host.run(probe.uid, { timeoutMs }),
    host.run(probe.pid1, { timeoutMs }),
    host.run(probe.systemdBooted, { timeoutMs }),
  ]);
  const uidValue = /^\d+$/.test(uid.stdout.trim()) ? Number(uid.stdout.trim()) : null;
  let sudo: boolean | null = null;
  if (uidValue !== null && uidValue !== 0) {
    sudo = (await host.run(probe.sudo, { timeoutMs })).code === 0;
  }
  host.viaSudo = uidValue !== 0;
  const privileged = uidValue === 0 || sudo === true;
  const tools: Record<string, string | null> = {};
  let nodeVersion = "";
  let existing: string[] = [];
  if (privileged) {
    const which = await host.runAsRoot(probe.which([...REQUIRED_TOOLS, ...SYSTEMD_TOOLS, ...SUPERVISED_TOOLS]), {
      timeoutMs,
    });
    Object.assign(tools, parseWhich(which.stdout));
    const nodePath = tools.node;
    if (nodePath) nodeVersion = (await host.run(probe.nodeVersion(nodePath), { timeoutMs })).stdout.trim();
    const found = await host.runAsRoot(
      probe.existing([layout.bin, layout.unitPath, layout.supervisor, layout.credentialsFile]),
      { timeoutMs },
    );
    existing = found.stdout.split("\n").filter((l) => l.startsWith("/"));
  }
  return {
    os: os.stdout.trim(),
    uid: uidValue,
    sudo,
    pid1: pid1.stdout.trim(),
    systemdBooted: booted.code === 0,
    tools,
    nodeVersion,
    existing,
  };
}

/** Creates missing directories, uploads the bundle beside its final name and renames it into place. */
async function uploadAgent(
  host: RemoteHost,
  layout: AgentLayout,
  plan: HostPlan,
  bundle: AgentBundle,
  undo: UndoStack,
): Promise<void> {
  const dirs = directoriesFor(layout, plan.mode);
  const existing = new Set((await host.must("checking directories", probe.existing(dirs))).split("\n"));
  const missing = dirs.filter((d) => !existing.has(d));
  if (missing.length > 0) {
    for (const dir of missing) {
      undo.push("upload", `remove the directory ${dir}`, () =>
        host.must(`removing ${dir}`, files.rmdir(dir)).then(() => {}),
      );
    }
    await host.must("creating directories", files.mkdir(missing));
  }
  undo.push("upload", `remove ${layout.bin}`, () =>
    host.must(`removing ${layout.bin}`, files.rm(layout.bin, layout.binNew)).then(() => {}),
  );
  await host.writeFile(layout.binNew, bundle.bytes, "0755", "uploading the agent");
  await host.must("moving the agent into place", files.rename(layout.binNew, layout.bin));
  const version = (await host.must("running the uploaded agent", agent.version(plan.nodePath, layout.bin))).trim();
  if (version !== bundle.version) {
    throw new HostProblem(`the uploaded agent reports version "${version}", expected "${bundle.version}"`);
  }
}

async function installService(
  deps: GatewaySshDeps,
  host: RemoteHost,
  layout: AgentLayout,
  plan: HostPlan,
  undo: UndoStack,
): Promise<string> {
  if (plan.mode === "systemd") {
    const unit = renderUnit(await deps.unitTemplate(), layout, plan.nodePath);
    undo.push("install", `remove ${layout.unitPath}`, async () => {
      await host.must(`removing ${layout.unitPath}`, files.rm(layout.unitPath));
      await host.must("systemctl daemon-reload", systemd.daemonReload);
    });
    await host.writeFile(layout.unitPath, unit, "0644", "writing the systemd unit");
    await host.must("systemctl daemon-reload", systemd.daemonReload);
    undo.push("install", `disable ${layout.unitName}`, () =>
      host.must("systemctl disable", systemd.disableNow(layout.unitName)).then(() => {}),
    );
    await host.must("systemctl enable", systemd.enable(layout.unitName));
    return `${layout.unitPath}, enabled at boot`;
  }
  undo.push("install", `remove ${layout.supervisor}`, () =>
    host.must(`removing ${layout.supervisor}`, files.rm(layout.supervisor)).then(() => {}),
  );
  await host.writeFile(layout.supervisor, renderSupervisor(layout, plan.nodePath), "0755", "writing the supervisor");
  return `supervisor ${layout.supervisor} (no systemd on this host); log ${layout.logFile}`;
}

import { readFileSync } from "node:fs";
import { AgentMetrics } from "../metrics/agent-metrics";
import { RuleCounterTally } from "../health/rule-counters";
import { listenForMetrics, type MetricsListener } from "../metrics/listener";
import { join } from "node:path";
import { removeDatapath } from "../apply/cleanup";
import { type CommandRunner, execRunner } from "../apply/runner";
import { ConsoleClient, ConsoleError } from "../client/console";
import { ENROLL_TOKEN_PREFIX, TOKEN_RE } from "../../core/protocol/agent-api";
import { HealthService } from "../health/service";
import { commandCheck } from "../vs/command-check";
import { execSpawner, type ProcessSpawner } from "../health/spawner";
import { createLogger, type Logger } from "../log";
import { renderRuleset } from "../../core/render/nft";
import { adminFailoverState } from "../../core/spec/decide";
import { zConsoleUrl } from "../../core/protocol/agent-api";
import { type Credentials, StateError, StateStore } from "../state/store";
import type { Command } from "./args";
import { datapathApplier } from "./datapath";
import { factsGatherer } from "./facts";
import { AgentLoop } from "./loop";
import { checkSpec } from "./spec-check";
import { AGENT_VERSION } from "./version";

/** Exit codes: 0 ok, 1 failed, 2 usage, 78 not configured (systemd does not restart on it). */
export const EXIT = { ok: 0, failed: 1, usage: 2, notConfigured: 78 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandDeps {
  io: Io;
  runner?: CommandRunner;
  /** starts the probers; tests fake it */
  spawner?: ProcessSpawner;
  /** ends `run` */
  signal?: AbortSignal;
}

class CommandFailed extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failed,
  ) {
    super(message);
  }
}

const userAgent = () => `gatehouse-agent/${AGENT_VERSION} node/${process.versions.node}`;

function readSpecFile(path: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CommandFailed(`cannot read ${path}: ${(e as Error).message}`);
  }
  // a saved desired-state answer or last-good file wraps the spec
  if (typeof raw === "object" && raw !== null && "spec" in raw && !("specVersion" in raw)) {
    raw = (raw as { spec: unknown }).spec;
  }
  const check = checkSpec(raw);
  if (!check.ok) throw new CommandFailed(check.error);
  return check.spec;
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new CommandFailed(`--token-file ${file}: ${(e as Error).message}`, EXIT.usage);
  }
}

async function enroll(cmd: Extract<Command, { name: "enroll" }>, deps: CommandDeps, log: Logger): Promise<number> {
  const url = zConsoleUrl.safeParse(cmd.consoleUrl);
  if (!url.success)
    throw new CommandFailed(`--console must be the console's http(s) URL, e.g. https://gatehouse.example`, EXIT.usage);
  const token = cmd.token ?? readTokenFile(cmd.tokenFile ?? "");
  if (!TOKEN_RE.test(token) || !token.startsWith(ENROLL_TOKEN_PREFIX)) {
    throw new CommandFailed(
      `--token must be the enrollment token the console showed (${ENROLL_TOKEN_PREFIX}...)`,
      EXIT.usage,
    );
  }
  if (url.data.startsWith("http://")) log.warn("the console URL is http: the token travels unencrypted");
  const store = new StateStore(cmd.stateDir);
  const facts = await factsGatherer({ runner: deps.runner ?? execRunner(), warn: (m) => log.warn(m) })();
  const client = new ConsoleClient({
    target: () => ({ consoleUrl: url.data, token }),
    userAgent: userAgent(),
  });
  const answer = await client.enroll({ agentVersion: AGENT_VERSION, facts });
  const credentials: Credentials = {
    consoleUrl: url.data,
    agentToken: answer.agentToken,
    gatewayId: answer.gatewayId,
    gatewayName: answer.gatewayName,
    clusterId: answer.clusterId,
    clusterName: answer.clusterName,
    enrolledAt: new Date().toISOString(),
  };
  store.writeCredentials(credentials);
  log.info({ gatewayId: answer.gatewayId, clusterId: answer.clusterId }, "enrolled");
  deps.io.out(
    `Enrolled as gateway "${answer.gatewayName}" of cluster "${answer.clusterName}".\n` +
      `The agent token is in ${store.dir}/credentials.json (mode 0600).\n` +
      `Start the agent with: systemctl enable --now gatehouse-agent (a running agent picks the new token up by itself)\n`,
  );
  return EXIT.ok;
}

/** Starts the metrics listener over the health service's and the loop's state. */
async function serveMetrics(
  at: { host: string; port: number },
  health: HealthService,
  loop: AgentLoop,
  ruleCounters: RuleCounterTally,
  log: Logger,
  keep: (m: AgentMetrics) => void,
): Promise<MetricsListener> {
  const metrics = new AgentMetrics({
    isps: () => {
      const spec = health.controller.running();
      return health.ispHealth().map((i) => ({
        isp: spec?.isps.find((x) => x.id === i.ispId)?.name ?? i.ispId,
        state: i.state,
        lossPct: i.lossPct,
        rttMs: i.rttMs,
        failedOver: i.failover !== null,
        connections: i.connections,
      }));
    },
    conntrackTotal: () => health.conntrackTotal(),
    running: () => loop.snapshot().running,
    ha: () => loop.reported().ha,
    virtualServices: () => {
      const names = new Map((health.controller.running()?.virtualServices ?? []).map((v) => [v.id, v.name]));
      return (loop.reported().virtualServices ?? []).map((v) => ({
        ...v,
        name: names.get(v.serviceId) ?? v.serviceId,
      }));
    },
    poolUsage: () => {
      const report = health.poolUsage();
      if (report === null) return null;
      const names = new Map((health.controller.running()?.pools ?? []).map((p) => [p.id, p.name]));
      return { report, poolName: (id) => names.get(id) ?? id };
    },
    rules: () => {
      const positions = new Map((health.controller.running()?.entries ?? []).map((e) => [e.ruleId, e.rulePosition]));
      return ruleCounters.latest().map((r) => ({ ...r, position: positions.get(r.ruleId) ?? null }));
    },
  });
  keep(metrics);
  try {
    const listener = await listenForMetrics(metrics.registry, at.host, at.port);
    log.info({ url: `http://${at.host}:${listener.port}/metrics` }, "serving metrics");
    return listener;
  } catch (e) {
    throw new CommandFailed(
      `cannot serve metrics on ${at.host}:${at.port}: ${e instanceof Error ? e.message : String(e)}`,
      EXIT.notConfigured,
    );
  }
}

async function run(cmd: Extract<Command, { name: "run" }>, deps: CommandDeps, log: Logger): Promise<number> {
  const store = new StateStore(cmd.stateDir);
  let credentials = store.readCredentials();
  if (credentials === undefined) {
    throw new CommandFailed(
      `not enrolled: ${store.dir}/credentials.json is missing; run "gatehouse-agent enroll --console URL --token TOKEN" first`,
      EXIT.notConfigured,
    );
  }
  // in a lab the datapath is a network namespace, while the agent reaches the console from the host
  const prefix = cmd.netns === null ? [] : ["ip", "netns", "exec", cmd.netns];
  const runner = deps.runner ?? execRunner({ prefix });
  const spawner = deps.spawner ?? execSpawner({ prefix });
  const client = new ConsoleClient({
    // asked each time (re-read when the file changed): `enroll` with a new token takes effect without a restart
    target: () => {
      try {
        credentials = store.currentCredentials() ?? credentials;
      } catch (e) {
        log.warn({ err: (e as Error).message }, "cannot re-read the credentials; using the ones loaded before");
      }
      const c = credentials as Credentials;
      return { consoleUrl: c.consoleUrl, token: c.agentToken };
    },
    userAgent: userAgent(),
  });
  let loop: AgentLoop | undefined;
  let metrics: AgentMetrics | undefined;
  const ruleCounters = new RuleCounterTally();
  // link probes and local failover: every spec is applied with the failover state health calls for
  const facts = factsGatherer({ runner, warn: (m) => log.warn(m), watched: () => health.watchingLinks() });
  const health: HealthService = new HealthService({
    runner,
    spawner,
    onInterfacesChanged: () => facts.changed(),
    log,
    agentVersion: AGENT_VERSION,
    post: (report, signal) => client.health(report, signal),
    setStatusHealth: (h) => loop?.setHealth(h),
    setIpRules: (check) => loop?.setIpRules(check),
    setVirtualServices: (status) => loop?.setVirtualServices(status),
    haDir: join(store.dir, "ha"),
    setHa: (status) => loop?.setHa(status),
    onFailoverEvent: (e) => metrics?.event(e),
    ruleCounters,
    // in a lab the real servers are reached from the datapath's namespace, not from the host
    ...(cmd.netns === null ? {} : { runCheck: commandCheck(runner) }),
  });
  loop = new AgentLoop({
    console: client,
    apply: (spec) => health.apply(spec),
    store,
    facts,
    log,
    agentVersion: AGENT_VERSION,
    onApplied: (result) => metrics?.applied(result),
    ruleCounters,
  });
  const listener =
    cmd.metricsListen === null
      ? null
      : await serveMetrics(cmd.metricsListen, health, loop, ruleCounters, log, (m) => (metrics = m));
  log.info(
    { version: AGENT_VERSION, console: credentials.consoleUrl, gateway: credentials.gatewayName, stateDir: store.dir },
    "agent starting",
  );
  const signal = deps.signal ?? new AbortController().signal;
  await Promise.all([loop.run(signal), health.run(signal)]);
  await listener?.close();
  log.info("agent stopped; the datapath keeps its rules");
  return EXIT.ok;
}

async function apply(cmd: Extract<Command, { name: "apply" }>, deps: CommandDeps): Promise<number> {
  const spec = readSpecFile(cmd.specFile);
  const outcome = await datapathApplier(deps.runner ?? execRunner())(spec);
  if (!outcome.ok) {
    deps.io.err(`apply failed: ${outcome.error}\n`);
    return EXIT.failed;
  }
  deps.io.out(
    `applied revision ${spec.revision}, failover epoch ${spec.failoverEpoch} (${outcome.durationsMs.totalMs ?? "?"} ms)\n`,
  );
  return EXIT.ok;
}

async function cleanup(cmd: Extract<Command, { name: "cleanup" }>, deps: CommandDeps): Promise<number> {
  const prefix = cmd.netns === null ? [] : ["ip", "netns", "exec", cmd.netns];
  const r = await removeDatapath(deps.runner ?? execRunner({ prefix }));
  for (const c of r.changes) deps.io.out(`${c}\n`);
  if (r.errors.length > 0) {
    deps.io.err(`cleanup incomplete:\n  ${r.errors.join("\n  ")}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

function status(cmd: Extract<Command, { name: "status" }>, deps: CommandDeps): number {
  const store = new StateStore(cmd.stateDir);
  const credentials = store.readCredentials();
  const local = store.readStatus();
  const lastGood = store.readLastGood();
  const healthy = credentials !== undefined && local?.lastApply?.ok !== false;
  if (cmd.json) {
    const { agentToken: _secret, ...shown } = credentials ?? { agentToken: "" };
    deps.io.out(
      `${JSON.stringify({ enrolled: credentials !== undefined, ...(credentials ? shown : {}), ...local, lastGoodSavedAt: lastGood?.savedAt ?? null }, null, 2)}\n`,
    );
    return healthy ? EXIT.ok : EXIT.failed;
  }
  const lines: string[] = [];
  if (credentials === undefined) lines.push(`Not enrolled (no credentials in ${store.dir}).`);
  else {
    lines.push(`Console:     ${credentials.consoleUrl}`);
    lines.push(
      `Gateway:     ${credentials.gatewayName} of cluster ${credentials.clusterName} (enrolled ${credentials.enrolledAt})`,
    );
  }
  const running = local?.running;
  lines.push(
    `Running:     ${running ? `revision ${running.revision}, failover epoch ${running.failoverEpoch}` : "nothing applied yet"}`,
  );
  const last = local?.lastApply;
  if (last) {
    const took = last.durationsMs.totalMs === undefined ? "" : ` in ${last.durationsMs.totalMs} ms`;
    lines.push(
      last.ok
        ? `Last apply:  revision ${last.revision}.${last.failoverEpoch} ok at ${last.at}${took}`
        : `Last apply:  revision ${last.revision}.${last.failoverEpoch} FAILED at ${last.at}:\n  ${last.error.replaceAll("\n", "\n  ")}`,
    );
  }
  if (local) {
    lines.push(
      `Console:     last answered ${local.lastContactAt ?? "never"}${local.consoleError ? `; now: ${local.consoleError}` : ""}`,
    );
  }
  deps.io.out(`${lines.join("\n")}\n`);
  return healthy ? EXIT.ok : EXIT.failed;
}

/** Runs one parsed command and returns the process exit code; never throws. */
export async function runCommand(cmd: Command, deps: CommandDeps, usage: string): Promise<number> {
  if (cmd.name === "help") {
    deps.io.out(usage);
    return EXIT.ok;
  }
  if (cmd.name === "version") {
    deps.io.out(`${AGENT_VERSION}\n`);
    return EXIT.ok;
  }
  const log = createLogger(cmd.logLevel);
  try {
    switch (cmd.name) {
      case "enroll":
        return await enroll(cmd, deps, log);
      case "run":
        return await run(cmd, deps, log);
      case "render": {
        const spec = readSpecFile(cmd.specFile);
        deps.io.out(renderRuleset(spec, adminFailoverState(spec)));
        return EXIT.ok;
      }
      case "apply":
        return await apply(cmd, deps);
      case "status":
        return status(cmd, deps);
      case "cleanup":
        return await cleanup(cmd, deps);
    }
  } catch (e) {
    const code = e instanceof CommandFailed ? e.code : EXIT.failed;
    const message =
      e instanceof CommandFailed || e instanceof ConsoleError || e instanceof StateError
        ? e.message
        : `unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    deps.io.err(`gatehouse-agent ${cmd.name}: ${message}\n`);
    return code;
  }
}

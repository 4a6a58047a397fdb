import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAgent } from "../../scripts/build-agent";
import { enrollAndRun, type LabAgent, waitFor } from "./agents";
import { buildClusterLab, type ClusterLab } from "./cluster-lab";
import { type ConsoleApi, signIn } from "./api";
import { type ProvisionedCluster, type ProvisionOptions, provisionCluster } from "./provision";
import { type Stream, startEcho, startStream } from "./streams";

/**
 * A whole lab attached to a running console: namespaces, a cluster created through the console's
 * API, the real agent on every gateway, and steady traffic from every client. Used by
 * `npm run lab` and the browser test; stop() removes all of it (the console's cluster too unless
 * asked to keep it).
 */

export interface LabSession {
  lab: ClusterLab;
  api: ConsoleApi;
  cluster: ProvisionedCluster;
  agents: LabAgent[];
  /** one steady UDP stream per client, restarted when it runs out */
  streams: Stream[];
  healthUrl: string;
  stop(opts?: { keepCluster?: boolean }): Promise<void>;
}

export interface LabSessionOptions {
  consoleUrl: string;
  username: string;
  password: string;
  gateways?: number;
  name?: string;
  provision?: Partial<ProvisionOptions>;
  agentLogLevel?: string;
  /** called with progress lines */
  say?: (line: string) => void;
}

/** Each stream runs this long before it is started again (the tool is bounded). */
const STREAM_SECONDS = 600;

export async function startLabSession(opts: LabSessionOptions): Promise<LabSession> {
  const say = opts.say ?? (() => {});
  const consoleUrl = opts.consoleUrl.replace(/\/+$/, "");
  const work = mkdtempSync(join(tmpdir(), "gh-lab-"));
  let lab: ClusterLab | null = null;
  let api: ConsoleApi | null = null;
  let cluster: ProvisionedCluster | null = null;
  const streams: Stream[] = [];
  let stopped = false;
  const restarters: NodeJS.Timeout[] = [];

  const stop = async (stopOpts: { keepCluster?: boolean } = {}) => {
    if (stopped) return;
    stopped = true;
    for (const t of restarters) clearInterval(t);
    await Promise.all(streams.map((s) => s.stop().catch(() => undefined)));
    if (lab !== null) await lab.destroy();
    if (api !== null && cluster !== null && !stopOpts.keepCluster) {
      const c = cluster;
      const a = api;
      try {
        for (const g of c.gateways) await a.gateway.delete.mutate({ id: g.id });
        const name = (await a.cluster.get.query({ id: c.clusterId })).name;
        await a.cluster.delete.mutate({ id: c.clusterId, confirmName: name });
      } catch (e) {
        say(`could not remove the lab's cluster from the console: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    rmSync(work, { recursive: true, force: true });
  };

  try {
    say("building the agent");
    const { outfile } = await buildAgent(join(work, "gatehouse-agent.mjs"));
    say("signing in to the console");
    api = await signIn(consoleUrl, opts.username, opts.password);
    say("building the network namespaces");
    lab = await buildClusterLab({ gateways: opts.gateways ?? 2, clients: opts.gateways ?? 2, prefix: "ghlab" });
    const name = opts.name ?? `lab-${lab.runId}`;
    say(`creating cluster ${name} with two ISPs, their pools, a rule and ${lab.gateways.length} gateways`);
    // flows moved to the backup come home on failback, so the lab shows traffic return
    cluster = await provisionCluster(api, lab, { name, flushOnFailback: true, ...opts.provision });
    say("enrolling and starting the agents");
    const agents = await enrollAndRun(lab, {
      agentFile: outfile,
      workDir: join(work, "agents"),
      consoleUrl,
      gateways: cluster.gateways,
      logLevel: opts.agentLogLevel ?? "warn",
    });
    const c = cluster;
    const l = lab;
    await waitFor(
      "every gateway to apply the published revision",
      async () => {
        const gws = await api?.gateway.list.query({ clusterId: c.clusterId });
        return gws?.gateways.every((g) => g.appliedRevision === 1) ?? false;
      },
      60_000,
      250,
    );
    await startEcho(lab, 24 * 3600);
    for (const client of lab.clients) {
      let stream = startStream(l, client.ns, { proto: "udp", seconds: STREAM_SECONDS, intervalMs: 10 });
      const index = streams.push(stream) - 1;
      // the stream tool is bounded in time: start it again when it ends
      restarters.push(
        setInterval(() => {
          if (stopped || stream.process.child.exitCode === null) return;
          stream = startStream(l, client.ns, { proto: "udp", seconds: STREAM_SECONDS, intervalMs: 10 });
          streams[index] = stream;
        }, 1000),
      );
    }
    return {
      lab,
      api,
      cluster,
      agents,
      streams,
      healthUrl: `${consoleUrl}/clusters/${cluster.clusterId}/health`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

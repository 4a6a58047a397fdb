import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { buildAgent } from "../../scripts/build-agent";
import type { Actor } from "../../server/services/audit/record";
import { type AgentBundle, readAgentBundle } from "../../server/services/gateway-ssh/bundle";
import type { GatewaySshDeps } from "../../server/services/gateway-ssh/deps";
import { startEnrollment } from "../../server/services/gateway-ssh/enroll";
import { getJob, type JobView } from "../../server/services/gateway-ssh/jobs";
import { type AgentApiServer, startAgentApiServer } from "../server/agent-test-server";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser, META, publishChange } from "../server/gateways";
import { createSsh2Connector } from "../../server/ssh/client";
import { buildSshLab, type LabGateway, SSH_PORT, type SshdOptions, type SshLab } from "./lab";

/**
 * Everything an SSH test needs: the namespace lab with its sshds, a console database with a
 * published cluster, the real agent API server the agents report to, an agent build (and variants
 * with other version strings for upgrades), and the SSH services' dependencies wired to all that.
 */
export interface SshHarness {
  lab: SshLab;
  t: GatewayTestDb;
  api: AgentApiServer;
  admin: Actor;
  clusterId: string;
  deps: GatewaySshDeps;
  secretKeyHex: string;
  /** the build the console pushes now; tests switch it for upgrades */
  bundle: AgentBundle;
  /** the same build, printing another version */
  variant(version: string): Promise<AgentBundle>;
  enroll(gw: LabGateway, name: string, extra?: Partial<Parameters<typeof startEnrollment>[3]>): Promise<JobView>;
  close(): Promise<void>;
}

export async function startSshHarness(gateways: SshdOptions[]): Promise<SshHarness> {
  const t = await gatewayTestDb();
  let api: AgentApiServer | null = null;
  let lab: SshLab | null = null;
  try {
    const admin = await makeUser(t.db, "ssh-admin", "admin");
    const { clusterId, poolId } = await makeCluster(t.db, admin, "ssh-lab");
    await publishChange(t.db, admin, clusterId, poolId);
    api = await startAgentApiServer(t.db, { recheckMs: 500 });
    lab = await buildSshLab({ gateways, consolePort: api.port });
    const base = await readAgentBundle((await buildAgent(join(lab.dir, "gatehouse-agent.mjs"))).outfile);
    const secretKeyHex = randomBytes(32).toString("hex");
    const labRef = lab;
    const harness: SshHarness = {
      lab,
      t,
      api,
      admin,
      clusterId,
      secretKeyHex,
      bundle: base,
      deps: {
        db: t.db,
        connector: createSsh2Connector({ dial: (e) => labRef.dial(e), readyTimeoutMs: 10_000 }),
        bundle: async () => harness.bundle,
        unitTemplate: () => readFile(join(process.cwd(), "agent/systemd/gatehouse-agent.service"), "utf8"),
        secretKeyText: () => secretKeyHex,
        onlineTimeoutMs: 30_000,
        onlinePollMs: 200,
      },
      async variant(version) {
        const text = readFileSync(base.path, "utf8");
        const quoted = JSON.stringify(base.version);
        if (!text.includes(quoted)) throw new Error("the agent bundle does not hold its version string");
        const path = join(labRef.dir, `gatehouse-agent-${version}.mjs`);
        writeFileSync(path, text.replaceAll(quoted, JSON.stringify(version)), { mode: 0o755 });
        const b = await readAgentBundle(path);
        if (b.version !== version) throw new Error(`the variant prints ${b.version}, not ${version}`);
        return b;
      },
      async enroll(gw, name, extra = {}) {
        const hostKey = await harness.deps.connector.scanHostKey({ host: gw.address, port: SSH_PORT });
        const started = await startEnrollment(harness.deps, admin, META, {
          clusterId,
          name,
          host: gw.address,
          port: SSH_PORT,
          username: "root",
          auth: { kind: "key", privateKey: labRef.clientKey },
          hostKey,
          consoleUrl: gw.consoleUrl,
          keepCredentials: true,
          serviceMode: "supervised",
          installRoot: gw.installRoot,
          ...extra,
        });
        await started.done;
        return getJob(t.db, started.jobId);
      },
      async close() {
        try {
          await labRef.destroy();
        } finally {
          await api?.stop();
          await t.close();
        }
      },
    };
    return harness;
  } catch (e) {
    await lab?.destroy();
    await api?.stop();
    await t.close();
    throw e;
  }
}

/** sha256 of a file inside the lab (the host's filesystem: namespaces share it). */
export function sha256File(path: string): string {
  return execFileSync("sha256sum", [path], { encoding: "utf8" }).slice(0, 64);
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function stepStates(job: JobView): Record<string, string> {
  return Object.fromEntries(job.steps.map((s) => [s.key, s.state]));
}

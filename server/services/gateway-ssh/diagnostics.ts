import { NFT_GUARD_TABLE, NFT_TABLE } from "../../../core/spec/marks";
import { conflict } from "../../errors";
import { commandLine } from "../../ssh/quote";
import type { ExecResult } from "../../ssh/types";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { loadRevisionPolicy } from "../draft/revisions";
import { openGatewaySession } from "./access";
import { type Argv, agent, diagnostics, parseWhich, probe, supervised, systemd } from "./commands";
import type { GatewaySshDeps } from "./deps";
import { agentIpRules, conntrackReport, parseAddressCounts, type PoolAddresses } from "./diagnostics-format";
import { describeResult } from "./remote";

/**
 * Read-only diagnostics over SSH: a fixed list of commands, nothing an operator can change. Each
 * section shows what ran and what it printed; one failing section does not stop the others.
 *
 * Who may run them: operators and admins. The commands only read, and operators are the ones
 * who act on what they show (failovers, rule fixes); viewers may not, because a run logs in to
 * the gateway as root with the kept credentials and shows its full ruleset and agent log.
 */

export interface DiagnosticSection {
  key: string;
  title: string;
  /** the command as it ran, for copying into a terminal */
  command: string;
  ok: boolean;
  exitCode: number | null;
  output: string;
  truncated: boolean;
  durationMs: number;
}

const OUTPUT_LIMIT = 512 * 1024;
const LOG_LINES = 100;

// one run per gateway at a time in this process: each run is a root login on the gateway
const shared = globalThis as unknown as { gatehouseSshDiagnostics?: Set<string> };
shared.gatehouseSshDiagnostics ??= new Set<string>();
const running = shared.gatehouseSshDiagnostics;

async function publishedPools(deps: GatewaySshDeps, clusterId: string): Promise<PoolAddresses[]> {
  const cluster = await deps.db.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: { publishedRevision: true },
  });
  if (cluster.publishedRevision === 0) return [];
  const policy = await loadRevisionPolicy(deps.db, clusterId, cluster.publishedRevision);
  return policy.pools.map((p) => ({ name: p.name, addresses: p.addresses }));
}

export async function runDiagnostics(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: { gatewayId: string },
) {
  if (running.has(input.gatewayId)) throw conflict("Diagnostics are already running for this gateway");
  running.add(input.gatewayId);
  try {
    const session = await openGatewaySession(deps, input.gatewayId);
    const { remote, layout, gateway, access } = session;
    const sections: DiagnosticSection[] = [];
    try {
      const run = async (
        key: string,
        title: string,
        argv: Argv,
        shown: string,
        shape: (r: ExecResult) => string = (r) => r.stdout,
      ) => {
        const r = await remote.runAsRoot(argv, { timeoutMs: 20_000, maxOutputBytes: OUTPUT_LIMIT });
        const ok = r.code === 0 && !r.timedOut;
        const text = ok ? shape(r) : describeResult(r);
        sections.push({
          key,
          title,
          command: shown,
          ok,
          exitCode: r.code,
          output: text.trimEnd(),
          truncated: r.truncated,
          durationMs: Math.round(r.durationMs),
        });
      };
      const nodePath = parseWhich((await remote.runAsRoot(probe.which(["node"]), { timeoutMs: 15_000 })).stdout).node;
      const mode = access.serviceMode ?? "supervised";
      const status = agent.status(nodePath ?? "node", layout);
      // `status` exits 1 when the last apply failed, and still prints the whole story as JSON
      const statusResult = await remote.runAsRoot(status, { timeoutMs: 20_000, maxOutputBytes: OUTPUT_LIMIT });
      const statusOk = statusResult.stdout.trim().startsWith("{");
      sections.push({
        key: "agent-status",
        title: "Agent status",
        command: "gatehouse-agent status --json",
        ok: statusOk,
        exitCode: statusResult.code,
        output: (statusOk ? statusResult.stdout : describeResult(statusResult)).trimEnd(),
        truncated: statusResult.truncated,
        durationMs: Math.round(statusResult.durationMs),
      });
      await run(
        "nft-policy",
        `nftables: table inet ${NFT_TABLE}`,
        diagnostics.nftTable("inet", NFT_TABLE),
        commandLine(diagnostics.nftTable("inet", NFT_TABLE)),
      );
      await run(
        "nft-guard",
        `nftables: table inet ${NFT_GUARD_TABLE}`,
        diagnostics.nftTable("inet", NFT_GUARD_TABLE),
        commandLine(diagnostics.nftTable("inet", NFT_GUARD_TABLE)),
      );
      await run(
        "ip-rules",
        "Policy routing rules of the agent (those looking up tables 7101-7350)",
        diagnostics.ipRules,
        "ip rule show",
        (r) => agentIpRules(r.stdout) || "(no rules of the agent)",
      );
      await run(
        "routes",
        "Routes in the agent's tables 7101-7350",
        diagnostics.agentRoutes,
        "ip route show table all (tables 7101-7350)",
        (r) => r.stdout || "(no routes in the agent's tables)",
      );
      const pools = await publishedPools(deps, gateway.clusterId);
      await run(
        "conntrack",
        "SNATed connections per pool address",
        diagnostics.conntrackByAddress,
        "conntrack -L -n (counted by reply destination)",
        (r) => conntrackReport(pools, parseAddressCounts(r.stdout)),
      );
      const logArgv =
        mode === "systemd" ? systemd.journal(layout.unitName, LOG_LINES) : supervised.logTail(layout, LOG_LINES);
      await run("log", `Agent log (last ${LOG_LINES} lines)`, logArgv, commandLine(logArgv));
    } finally {
      remote.close();
    }
    const ranAt = new Date();
    await deps.db.$transaction((tx) =>
      recordAudit(tx, {
        actor,
        meta,
        action: "gateway.ssh_diagnostics",
        clusterId: gateway.clusterId,
        targetType: "gateway",
        targetId: gateway.id,
        after: { name: gateway.name, sections: sections.map((s) => ({ key: s.key, ok: s.ok })) },
      }),
    );
    return { gatewayId: gateway.id, gatewayName: gateway.name, ranAt, hostKey: access.hostKey, sections };
  } finally {
    running.delete(input.gatewayId);
  }
}

import { structuredPatch } from "diff";
import { renderRuleset } from "../../../core/render/nft";
import { adminFailoverState } from "../../../core/spec/decide";
import type { Db } from "../../db";
import { AppError, notFound } from "../../errors";
import { compileGatewaySpec, type IspFailover } from "../../../core/policy/compile";
import { loadRevisionPolicy } from "../draft/revisions";

/**
 * What two revisions mean on one gateway's datapath: both compiled for that gateway (with the
 * cluster's current failover state, so only the policy differs) and rendered to the nftables
 * file the agent would load, then diffed line by line.
 */

export interface RenderedSide {
  revision: number;
  /** the nft file, or null when the revision does not compile */
  text: string | null;
  error: string | null;
  lines: number;
}

export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** each line starts with " ", "-" or "+" */
  lines: string[];
}

/** Rulesets of tens of thousands of lines that differ everywhere would take long to diff. */
const DIFF_TIMEOUT_MS = 5000;

async function renderSide(
  db: Db,
  cluster: { id: string; name: string; failoverEpoch: number },
  gateway: { id: string; name: string },
  failover: IspFailover[],
  revision: number,
): Promise<RenderedSide> {
  try {
    const policy = await loadRevisionPolicy(db, cluster.id, revision);
    const spec = compileGatewaySpec({
      policy,
      revision,
      clusterId: cluster.id,
      clusterName: cluster.name,
      gateway,
      failover,
      failoverEpoch: cluster.failoverEpoch,
    });
    const text = renderRuleset(spec, adminFailoverState(spec));
    return { revision, text, error: null, lines: text.split("\n").length };
  } catch (e) {
    if (e instanceof AppError) throw e;
    return { revision, text: null, error: e instanceof Error ? e.message : String(e), lines: 0 };
  }
}

export async function rulesetDiff(db: Db, input: { clusterId: string; gatewayId: string; from: number; to: number }) {
  const [cluster, gateway, failoverRows] = await Promise.all([
    db.cluster.findUnique({ where: { id: input.clusterId }, select: { id: true, name: true, failoverEpoch: true } }),
    db.gateway.findFirst({
      where: { id: input.gatewayId, clusterId: input.clusterId },
      select: { id: true, name: true },
    }),
    db.failoverState.findMany({
      where: { clusterId: input.clusterId },
      select: { ispId: true, adminState: true, backupIspId: true },
    }),
  ]);
  if (cluster === null) throw notFound("The cluster");
  if (gateway === null) throw notFound("The gateway");
  const failover: IspFailover[] = failoverRows.map((f) => ({
    ispId: f.ispId,
    adminState: f.adminState === "failed_over" ? "failed_over" : "active",
    backupIspId: f.backupIspId,
  }));
  const [from, to] = await Promise.all([
    renderSide(db, cluster, gateway, failover, input.from),
    renderSide(db, cluster, gateway, failover, input.to),
  ]);
  let hunks: DiffHunk[] | null = null;
  let tooLarge = false;
  if (from.text !== null && to.text !== null) {
    const patch = structuredPatch(
      `revision-${input.from}.nft`,
      `revision-${input.to}.nft`,
      from.text,
      to.text,
      undefined,
      undefined,
      { context: 3, timeout: DIFF_TIMEOUT_MS },
    );
    if (patch === undefined) tooLarge = true;
    else
      hunks = patch.hunks.map(({ oldStart, oldLines, newStart, newLines, lines }) => ({
        oldStart,
        oldLines,
        newStart,
        newLines,
        lines,
      }));
  }
  const count = (prefix: string) =>
    (hunks ?? []).reduce((n, h) => n + h.lines.filter((l) => l.startsWith(prefix)).length, 0);
  return {
    gateway,
    from: { ...from, text: null },
    to: { ...to, text: null },
    hunks,
    tooLarge,
    added: count("+"),
    removed: count("-"),
  };
}

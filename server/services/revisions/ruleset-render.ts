import { structuredPatch } from "diff";
import type { ClusterGateway } from "../../../core/policy/ha";
import { renderRuleset } from "../../../core/render/nft";
import { adminFailoverState } from "../../../core/spec/decide";
import { compileGatewaySpec, type IspFailover } from "../../../core/policy/compile";
import { zPolicy } from "../../../core/policy/model";

/**
 * The CPU-heavy half of a ruleset diff, with no I/O: a revision's policy (as stored JSON) compiled
 * for one gateway and rendered to the nftables file its agent would load, and two such files
 * diffed. It runs in a worker thread (./ruleset-worker.ts), so that a large ruleset does not stop
 * the console answering everyone else meanwhile.
 */

export interface RenderJob {
  kind: "render";
  policyJson: string;
  revision: number;
  clusterId: string;
  clusterName: string;
  gateway: { id: string; name: string };
  failover: IspFailover[];
  failoverEpoch: number;
  /** the cluster's gateways, for pool slices and high availability (compile.ts) */
  gateways?: ClusterGateway[];
}

export interface DiffJob {
  kind: "diff";
  fromName: string;
  toName: string;
  from: string;
  to: string;
}

export type RulesetJob = RenderJob | DiffJob;

export interface RenderedText {
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

export function renderRevision(job: RenderJob): RenderedText {
  try {
    const policy = zPolicy.parse(JSON.parse(job.policyJson));
    const spec = compileGatewaySpec({
      policy,
      revision: job.revision,
      clusterId: job.clusterId,
      clusterName: job.clusterName,
      gateway: job.gateway,
      failover: job.failover,
      failoverEpoch: job.failoverEpoch,
      gateways: job.gateways,
    });
    const text = renderRuleset(spec, adminFailoverState(spec));
    return { text, error: null, lines: text.split("\n").length };
  } catch (e) {
    return { text: null, error: e instanceof Error ? e.message : String(e), lines: 0 };
  }
}

/** The hunks, or null when the files differ too much to diff in time. */
export function diffRulesets(job: DiffJob): DiffHunk[] | null {
  const patch = structuredPatch(job.fromName, job.toName, job.from, job.to, undefined, undefined, {
    context: 3,
    timeout: DIFF_TIMEOUT_MS,
  });
  if (patch === undefined) return null;
  return patch.hunks.map(({ oldStart, oldLines, newStart, newLines, lines }) => ({
    oldStart,
    oldLines,
    newStart,
    newLines,
    lines,
  }));
}

export function runRulesetJob(job: RulesetJob): RenderedText | DiffHunk[] | null {
  return job.kind === "render" ? renderRevision(job) : diffRulesets(job);
}

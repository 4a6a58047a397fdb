import type { Db } from "../../db";
import type { ClusterGateway } from "../../../core/policy/ha";
import { notFound } from "../../errors";
import type { IspFailover } from "../../../core/policy/compile";
import { loadRevisionPolicyText } from "../draft/revisions";
import { BoundedCache } from "./bounded-cache";
import type { DiffHunk, RenderedText } from "./ruleset-render";
import { diffInWorker, renderInWorker } from "./ruleset-worker";

export type { DiffHunk } from "./ruleset-render";

/**
 * What two revisions mean on one gateway's datapath: both compiled for that gateway (with the
 * cluster's current failover state, so only the policy differs) and rendered to the nftables
 * file the agent would load, then diffed line by line.
 *
 * Rendering a large policy and diffing its rulesets takes seconds of CPU, and any viewer can ask
 * again and again: rendered rulesets and diffs are kept in bounded in-memory caches, keyed by
 * everything they are computed from (revisions are immutable; the gateway's and cluster's names
 * and the failover state are part of the key), so nothing ever needs invalidating; concurrent
 * requests for the same render share it; and the work runs in a worker thread.
 */

export interface RenderedSide extends RenderedText {
  revision: number;
}

/** About 64 MB of rendered text (UTF-16) and 16 rulesets at most. */
const renders = new BoundedCache<RenderedText>(32 * 1024 * 1024, 16, (r) => (r.text?.length ?? 0) + 1000);
/** Diffs are much smaller than the rulesets they compare. */
const diffs = new BoundedCache<DiffHunk[] | null>(8 * 1024 * 1024, 64, (h) =>
  (h ?? []).reduce((n, x) => n + x.lines.reduce((m, l) => m + l.length + 8, 64), 64),
);
const inFlight = new Map<string, Promise<unknown>>();

/** One computation per key at a time: later callers wait for the first one's answer. */
async function shared<T>(cache: BoundedCache<T>, key: string, compute: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const running = inFlight.get(key) as Promise<T> | undefined;
  if (running !== undefined) return running;
  const p = compute()
    .then((value) => {
      cache.set(key, value);
      return value;
    })
    .finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

interface SideContext {
  cluster: { id: string; name: string; failoverEpoch: number };
  gateway: { id: string; name: string };
  failover: IspFailover[];
  /** the cluster's gateways: the one shown runs its own slice of each pool when they are active at once */
  gateways: ClusterGateway[];
}

const sideKey = (c: SideContext, revision: number) =>
  JSON.stringify([c.cluster.id, revision, c.cluster.name, c.cluster.failoverEpoch, c.gateway, c.failover, c.gateways]);

async function renderSide(db: Db, c: SideContext, revision: number): Promise<{ key: string; side: RenderedSide }> {
  const key = sideKey(c, revision);
  const rendered = await shared(renders, key, async () =>
    renderInWorker({
      kind: "render",
      // a missing revision is a NOT_FOUND for the caller, not a side that failed to render
      policyJson: await loadRevisionPolicyText(db, c.cluster.id, revision),
      revision,
      clusterId: c.cluster.id,
      clusterName: c.cluster.name,
      gateway: c.gateway,
      failover: c.failover,
      failoverEpoch: c.cluster.failoverEpoch,
      gateways: c.gateways,
    }),
  );
  return { key, side: { revision, ...rendered } };
}

export async function rulesetDiff(db: Db, input: { clusterId: string; gatewayId: string; from: number; to: number }) {
  const [cluster, gateway, failoverRows, members] = await Promise.all([
    db.cluster.findUnique({ where: { id: input.clusterId }, select: { id: true, name: true, failoverEpoch: true } }),
    db.gateway.findFirst({
      where: { id: input.gatewayId, clusterId: input.clusterId },
      select: { id: true, name: true },
    }),
    db.failoverState.findMany({
      where: { clusterId: input.clusterId },
      select: { ispId: true, adminState: true, backupIspId: true },
      orderBy: { ispId: "asc" },
    }),
    db.gateway.findMany({
      where: { clusterId: input.clusterId },
      select: { id: true, name: true, drained: true },
      orderBy: { id: "asc" },
    }),
  ]);
  if (cluster === null) throw notFound("The cluster");
  if (gateway === null) throw notFound("The gateway");
  const failover: IspFailover[] = failoverRows.map((f) => ({
    ispId: f.ispId,
    adminState: f.adminState === "failed_over" ? "failed_over" : "active",
    backupIspId: f.backupIspId,
  }));
  const c: SideContext = { cluster, gateway, failover, gateways: members };
  const [from, to] = await Promise.all([renderSide(db, c, input.from), renderSide(db, c, input.to)]);
  let hunks: DiffHunk[] | null = null;
  let tooLarge = false;
  const fromText = from.side.text;
  const toText = to.side.text;
  if (fromText !== null && toText !== null) {
    hunks = await shared(diffs, JSON.stringify([from.key, to.key]), () =>
      diffInWorker({
        kind: "diff",
        fromName: `revision-${input.from}.nft`,
        toName: `revision-${input.to}.nft`,
        from: fromText,
        to: toText,
      }),
    );
    tooLarge = hunks === null;
  }
  const count = (prefix: string) =>
    (hunks ?? []).reduce((n, h) => n + h.lines.filter((l) => l.startsWith(prefix)).length, 0);
  return {
    gateway,
    from: { ...from.side, text: null },
    to: { ...to.side, text: null },
    hunks,
    tooLarge,
    added: count("+"),
    removed: count("-"),
  };
}

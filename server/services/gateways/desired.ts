import type { GatewaySpec } from "../../../core/spec/schema";
import { type SpecKey, sameSpecKey } from "../../../core/protocol/agent-api";
import type { Db } from "../../db";
import { compileGatewaySpec, type IspFailover } from "../../../core/policy/compile";
import type { Policy } from "../../../core/policy/model";
import { loadRevisionPolicy } from "../draft/revisions";
import { authenticateAgent } from "./agent-auth";
import { clusterGeneration, waitForClusterChange } from "../cluster-changes/notifier";
import type { ClusterGateway } from "../../../core/policy/ha";
import { loadClusterGateways } from "./ha";

/**
 * What a gateway should run, and the long poll that hands it over. The desired state of a
 * cluster is its published revision, its failover state and its gateways (who owns which pool
 * slice); (revision, failoverEpoch) names it: failovers, restores and gateways joining or leaving
 * each advance the failover epoch (server/services/gateways/gateways.ts).
 */

export interface LongPollOptions {
  /** answer "nothing new" after this long */
  timeoutMs: number;
  /** re-read the database this often, for changes made by another console replica */
  recheckMs: number;
  signal?: AbortSignal;
}

// Compiling a large policy is the expensive part. The specs of one desired state (cluster,
// revision, failover epoch, gateway set) are kept together, each gateway's compiled on first ask:
// with pool slices every gateway has its own, and a gateway joining or leaving re-slices them all.
const CACHE_SIZE = 16;
interface CachedState {
  load: Promise<{ policy: Policy; failover: IspFailover[] }>;
  specs: Map<string, GatewaySpec>;
}
const specCache = new Map<string, CachedState>();

async function loadState(db: Db, clusterId: string, revision: number) {
  const [policy, failoverRows] = await Promise.all([
    loadRevisionPolicy(db, clusterId, revision),
    db.failoverState.findMany({
      where: { clusterId },
      select: { ispId: true, adminState: true, backupIspId: true, restoredEpoch: true },
    }),
  ]);
  const failover: IspFailover[] = failoverRows.map((f) => ({
    ispId: f.ispId,
    adminState: f.adminState === "failed_over" ? "failed_over" : "active",
    backupIspId: f.backupIspId,
    restoredEpoch: f.restoredEpoch,
  }));
  return { policy, failover };
}

async function compileFor(
  db: Db,
  cluster: { id: string; name: string; publishedRevision: number; failoverEpoch: number },
  gateway: { id: string; name: string },
  gateways: readonly ClusterGateway[],
): Promise<GatewaySpec> {
  // peers and drained flags are part of every gateway's spec (its slices, its VRRP priorities)
  const members = [...gateways].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const membership = members.map((g) => `${g.id}${g.drained ? "-" : "+"}`).join(",");
  const key = `${cluster.id}:${cluster.publishedRevision}:${cluster.failoverEpoch}:${membership}`;
  let state = specCache.get(key);
  if (state === undefined) {
    state = { load: loadState(db, cluster.id, cluster.publishedRevision), specs: new Map() };
    specCache.set(key, state);
    state.load.catch(() => specCache.delete(key));
    while (specCache.size > CACHE_SIZE) {
      const oldest = specCache.keys().next().value;
      if (oldest === undefined) break;
      specCache.delete(oldest);
    }
  }
  const { policy, failover } = await state.load;
  let spec = state.specs.get(gateway.id);
  if (spec === undefined) {
    spec = compileGatewaySpec({
      policy,
      revision: cluster.publishedRevision,
      clusterId: cluster.id,
      clusterName: cluster.name,
      gateway,
      failover,
      failoverEpoch: cluster.failoverEpoch,
      gateways: members,
    });
    state.specs.set(gateway.id, spec);
  }
  // a renamed gateway keeps its slice: only the name in the spec changes
  return { ...spec, gatewayName: gateway.name };
}

/**
 * The spec the agent holding `token` should run, as soon as it differs from `have`; null when
 * nothing changed within the timeout. A cluster that never published has nothing to run yet.
 * The token is checked again at every database read, so revoking it ends a waiting poll.
 */
export async function waitForDesiredSpec(
  db: Db,
  token: string | null,
  have: SpecKey | null,
  opts: LongPollOptions,
): Promise<GatewaySpec | null> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const gw = await authenticateAgent(db, token);
    // read the generation before the database, so a publish between the two still wakes us
    const generation = clusterGeneration(gw.clusterId);
    const cluster = await db.cluster.findUnique({
      where: { id: gw.clusterId },
      select: { id: true, name: true, publishedRevision: true, failoverEpoch: true },
    });
    if (!cluster) return null;
    const current = { revision: cluster.publishedRevision, failoverEpoch: cluster.failoverEpoch };
    if (cluster.publishedRevision > 0 && !sameSpecKey(current, have)) {
      return compileFor(db, cluster, gw, await loadClusterGateways(db, cluster.id));
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || opts.signal?.aborted) return null;
    await waitForClusterChange(gw.clusterId, generation, Math.min(opts.recheckMs, remaining), opts.signal);
  }
}

/** Drops compiled specs, for tests that rewrite a revision in place. */
export function clearSpecCache(): void {
  specCache.clear();
}

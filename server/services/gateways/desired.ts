import type { GatewaySpec } from "../../../core/spec/schema";
import { type SpecKey, sameSpecKey } from "../../../core/protocol/agent-api";
import type { Db } from "../../db";
import { compileGatewaySpec, type IspFailover } from "../../../core/policy/compile";
import { loadRevisionPolicy } from "../draft/revisions";
import { authenticateAgent } from "./agent-auth";
import { clusterGeneration, waitForClusterChange } from "../cluster-changes/notifier";
import { loadClusterGateways } from "./ha";

/**
 * What a gateway should run, and the long poll that hands it over. The desired state of a
 * cluster is its published revision plus its failover state; (revision, failoverEpoch) names it.
 */

export interface LongPollOptions {
  /** answer "nothing new" after this long */
  timeoutMs: number;
  /** re-read the database this often, for changes made by another console replica */
  recheckMs: number;
  signal?: AbortSignal;
}

// Compiling a large policy is the expensive part, so the last few compiled specs are kept. Each
// gateway's spec is its own (its links, its VRRP priorities), so the key names the gateway too.
const CACHE_SIZE = 16;
const specCache = new Map<string, GatewaySpec>();

async function compileFor(
  db: Db,
  cluster: { id: string; name: string; publishedRevision: number; failoverEpoch: number },
  gateway: { id: string; name: string },
): Promise<GatewaySpec> {
  // peers and drained flags are part of a gateway's spec: a gateway joining or leaving changes it
  const members = await loadClusterGateways(db, cluster.id);
  const membership = members.map((g) => `${g.id}${g.drained ? "-" : "+"}`).join(",");
  const key = `${cluster.id}:${cluster.publishedRevision}:${cluster.failoverEpoch}:${gateway.id}:${membership}`;
  let spec = specCache.get(key);
  if (spec === undefined) {
    const [policy, failoverRows] = await Promise.all([
      loadRevisionPolicy(db, cluster.id, cluster.publishedRevision),
      db.failoverState.findMany({
        where: { clusterId: cluster.id },
        select: { ispId: true, adminState: true, backupIspId: true, restoredEpoch: true },
      }),
    ]);
    const failover: IspFailover[] = failoverRows.map((f) => ({
      ispId: f.ispId,
      adminState: f.adminState === "failed_over" ? "failed_over" : "active",
      backupIspId: f.backupIspId,
      restoredEpoch: f.restoredEpoch,
    }));
    // a gateway added since the revision was published has no settings in it: it is not a peer
    // until a revision with its settings is published (and until then its own spec fails to compile)
    const gateways = members.filter(
      (g) => g.id === gateway.id || policy.settings.gateways.some((e) => e.gatewayId === g.id),
    );
    spec = compileGatewaySpec({
      policy,
      revision: cluster.publishedRevision,
      clusterId: cluster.id,
      clusterName: cluster.name,
      gateway,
      failover,
      failoverEpoch: cluster.failoverEpoch,
      gateways,
    });
    specCache.set(key, spec);
    while (specCache.size > CACHE_SIZE) {
      const oldest = specCache.keys().next().value;
      if (oldest === undefined) break;
      specCache.delete(oldest);
    }
  }
  return { ...spec, gatewayId: gateway.id, gatewayName: gateway.name };
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
    if (cluster.publishedRevision > 0 && !sameSpecKey(current, have)) return compileFor(db, cluster, gw);
    const remaining = deadline - Date.now();
    if (remaining <= 0 || opts.signal?.aborted) return null;
    await waitForClusterChange(gw.clusterId, generation, Math.min(opts.recheckMs, remaining), opts.signal);
  }
}

/** Drops compiled specs, for tests that rewrite a revision in place. */
export function clearSpecCache(): void {
  specCache.clear();
}

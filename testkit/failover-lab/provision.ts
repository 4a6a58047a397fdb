import type { Monitor } from "../../core/policy/model";
import type { ClusterLab, SliceRoute } from "./cluster-lab";
import type { ConsoleApi } from "./api";

/**
 * Creates a lab's cluster in a console through its API, as an operator and admin would in the
 * browser: two ISPs that back each other up, a pool on each, a rule for the LAN, one gateway
 * (with its enrollment token) per lab gateway and one published revision; then configures the
 * lab's ISP routers as the Pools page tells an operator to.
 */

export interface ProvisionOptions {
  name: string;
  monitor?: Partial<Monitor>;
  failoverMode?: "manual" | "automatic";
  failbackMode?: "manual" | "automatic";
  flushOnFailback?: boolean;
}

export interface ProvisionedCluster {
  clusterId: string;
  isps: { a: string; b: string };
  pools: { a: string; b: string };
  gateways: Array<{ id: string; name: string; enrollToken: string }>;
}

/** Fast probes for labs and tests: a dead uplink is noticed in about 200 ms. */
export const LAB_MONITOR: Monitor = {
  intervalMs: 100,
  downAfter: 2,
  upAfter: 5,
  holdDownMs: 2_000,
  lossThresholdPct: 50,
  latencyThresholdMs: 50,
};

export async function provisionCluster(
  api: ConsoleApi,
  lab: ClusterLab,
  opts: ProvisionOptions,
): Promise<ProvisionedCluster> {
  const cluster = await api.cluster.create.mutate({ name: opts.name, description: "failover lab", unmatched: "drop" });
  const monitor = { ...LAB_MONITOR, ...opts.monitor };
  const modes = {
    failoverMode: opts.failoverMode ?? "automatic",
    failbackMode: opts.failbackMode ?? "automatic",
    flushOnFailback: opts.flushOnFailback ?? false,
  };
  const ispFields = (isp: "a" | "b") => ({
    name: `isp-${isp}`,
    interface: lab.isps[isp].interface,
    nextHop: lab.isps[isp].nextHop,
    monitor,
    ...modes,
  });
  const a = await api.isp.create.mutate({ clusterId: cluster.id, fields: ispFields("a") });
  const b = await api.isp.create.mutate({ clusterId: cluster.id, fields: ispFields("b") });
  const poolA = await api.pool.create.mutate({
    clusterId: cluster.id,
    fields: { name: "pool-a", ispId: a.entity.id, addresses: [`${lab.pools.a[0]}-${lab.pools.a.at(-1)}`] },
  });
  const poolB = await api.pool.create.mutate({
    clusterId: cluster.id,
    fields: { name: "pool-b", ispId: b.entity.id, addresses: [`${lab.pools.b[0]}-${lab.pools.b.at(-1)}`] },
  });
  await api.isp.update.mutate({
    clusterId: cluster.id,
    id: a.entity.id,
    version: a.version,
    fields: { ...ispFields("a"), backupIspIds: [b.entity.id], defaultPoolId: poolA.entity.id },
  });
  await api.isp.update.mutate({
    clusterId: cluster.id,
    id: b.entity.id,
    version: b.version,
    fields: { ...ispFields("b"), backupIspIds: [a.entity.id], defaultPoolId: poolB.entity.id },
  });
  await api.rule.create.mutate({
    clusterId: cluster.id,
    fields: {
      source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
      action: { type: "snat", poolId: poolA.entity.id, algorithm: "sh" },
      comment: "LAN clients out through the pools",
    },
  });
  // the gateways join before the first publish, so the first spec every agent gets has its slice
  const gateways: ProvisionedCluster["gateways"] = [];
  for (const g of lab.gateways) {
    const created = await api.gateway.create.mutate({ clusterId: cluster.id, name: `gw${g.index}`, address: "" });
    gateways.push({ id: created.id, name: created.name, enrollToken: created.enrollToken });
  }
  const { draftVersion } = await api.draft.status.query({ clusterId: cluster.id });
  await api.draft.publish.mutate({ clusterId: cluster.id, message: "failover lab", draftVersion });
  await routeAsPoolsPageSays(api, lab, cluster.id, { a: a.entity.id, b: b.entity.id });
  return {
    clusterId: cluster.id,
    isps: { a: a.entity.id, b: b.entity.id },
    pools: { a: poolA.entity.id, b: poolB.entity.id },
    gateways,
  };
}

/**
 * Plays the operator who configures the upstream: reads the routes the console's Pools page shows
 * (each gateway's slices, when two or more gateways are active) and installs them as static routes
 * on the lab's ISP routers, to the gateway's own address on each ISP's link. With one gateway
 * there is nothing to split: the routers keep routing the whole pools to it.
 */
export async function routeAsPoolsPageSays(
  api: ConsoleApi,
  lab: ClusterLab,
  clusterId: string,
  ispIds: Record<"a" | "b", string>,
): Promise<void> {
  const view = await api.pool.slices.query({ clusterId });
  if (!view.inForce) return;
  const ispOf = (id: string) => (id === ispIds.a ? "a" : id === ispIds.b ? "b" : null);
  const routes: SliceRoute[] = [];
  for (const u of view.upstream) {
    const isp = ispOf(u.ispId);
    const gateway = Number(/^gw(\d+)$/.exec(u.gatewayName)?.[1]);
    if (isp === null || !Number.isInteger(gateway))
      throw new Error(`the Pools page names ${u.ispName}/${u.gatewayName}`);
    if (u.onLink.length > 0) throw new Error("the lab's pools are routed, not on-link");
    routes.push({ isp, gateway, cidrs: u.routed });
  }
  await lab.routeSlices(routes);
}

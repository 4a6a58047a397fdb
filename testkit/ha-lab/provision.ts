import type { z } from "zod";
import type { zHaSettingsFields } from "../../core/policy/model";
import type { ConsoleApi } from "../failover-lab/api";
import { LAB_MONITOR } from "../failover-lab/provision";
import type { HaLab, HaLabGateway } from "./lab";

/**
 * Creates the HA lab's cluster in a console through its API, as an operator would: ISP alpha with
 * an on-link pool, ISP beta with a routed pool, one rule per ISP for the LAN, the two gateways
 * (with their enrollment tokens), the cluster's high-availability settings (active/standby, VRRP
 * on the LAN and both ISP links, connection sync over the sync link) and each gateway's own
 * interfaces and addresses; then publishes.
 */

export interface HaCluster {
  clusterId: string;
  isps: { alpha: string; beta: string };
  gateways: Record<HaLabGateway, { id: string; name: string; enrollToken: string }>;
}

export interface HaProvisionOptions {
  name: string;
  mode?: "active_standby" | "active_active";
  advertIntervalMs?: number;
  sync?: boolean;
  preempt?: boolean;
}

/** active/active: each gateway's group, LAN address and floating link addresses */
export const ACTIVE_ACTIVE = {
  a: { vrid: 61, group: "g61", lan: "100.64.0.11/24", alpha: "198.51.100.5/24", beta: "203.0.113.5/26" },
  b: { vrid: 62, group: "g62", lan: "100.64.0.12/24", alpha: "198.51.100.6/24", beta: "203.0.113.6/26" },
} as const;

export function haSettings(
  cluster: HaCluster,
  opts: Omit<HaProvisionOptions, "name">,
): z.input<typeof zHaSettingsFields> {
  const mode = opts.mode ?? "active_standby";
  return {
    mode,
    lanVirtualAddress: mode === "active_standby" ? "100.64.0.1/24" : null,
    lanVrid: 51,
    advertIntervalMs: opts.advertIntervalMs ?? 100,
    preempt: opts.preempt ?? false,
    unicast: true,
    trackLinkWeight: 50,
    sync: { enabled: opts.sync ?? true, interface: "sync0" },
    links: [
      { ispId: cluster.isps.alpha, vrid: 52, floatingAddress: "198.51.100.4/24" },
      { ispId: cluster.isps.beta, vrid: 53, floatingAddress: "203.0.113.4/26" },
    ],
  };
}

/** Replaces the cluster's HA settings and publishes: every agent reconfigures keepalived and conntrackd. */
export async function publishHaSettings(
  api: ConsoleApi,
  cluster: HaCluster,
  opts: Omit<HaProvisionOptions, "name">,
  message: string,
): Promise<void> {
  const { draftVersion } = await api.draft.status.query({ clusterId: cluster.clusterId });
  await api.cluster.update.mutate({ id: cluster.clusterId, draftVersion, ha: haSettings(cluster, opts) });
  const after = await api.draft.status.query({ clusterId: cluster.clusterId });
  await api.draft.publish.mutate({ clusterId: cluster.clusterId, message, draftVersion: after.draftVersion });
}

export async function provisionHaCluster(api: ConsoleApi, lab: HaLab, opts: HaProvisionOptions): Promise<HaCluster> {
  const created = await api.cluster.create.mutate({ name: opts.name, description: "HA lab", unmatched: "drop" });
  const clusterId = created.id;
  const { a } = lab.gateways;
  const isp = (name: string, iface: string, nextHop: string, localAddress: string) =>
    api.isp.create.mutate({
      clusterId,
      fields: { name, interface: iface, nextHop, localAddress, monitor: LAB_MONITOR },
    });
  const alpha = await isp("alpha", a.alpha.iface, a.alpha.nextHop, a.alpha.address);
  const beta = await isp("beta", a.beta.iface, a.beta.nextHop, a.beta.address);
  const poolAlpha = await api.pool.create.mutate({
    clusterId,
    fields: {
      name: "alpha-onlink",
      ispId: alpha.entity.id,
      mode: "on-link",
      addresses: [`${lab.pools.alpha[0]}-${lab.pools.alpha.at(-1)}`],
    },
  });
  const poolBeta = await api.pool.create.mutate({
    clusterId,
    fields: {
      name: "beta-routed",
      ispId: beta.entity.id,
      addresses: [`${lab.pools.beta[0]}-${lab.pools.beta.at(-1)}`],
    },
  });
  for (const [ispId, poolId] of [
    [alpha.entity.id, poolAlpha.entity.id],
    [beta.entity.id, poolBeta.entity.id],
  ] as const) {
    await api.rule.create.mutate({
      clusterId,
      fields: {
        source: { kind: "cidrs", cidrs: ["100.64.0.0/24"] },
        egressIspId: ispId,
        action: { type: "snat", poolId, algorithm: "sh" },
        comment: "the LAN out through each ISP's pool",
      },
    });
  }
  const gateways = {} as HaCluster["gateways"];
  for (const key of ["a", "b"] as const) {
    const g = await api.gateway.create.mutate({ clusterId, name: `gw${key}`, address: "" });
    gateways[key] = { id: g.id, name: g.name, enrollToken: g.enrollToken };
  }
  const cluster: HaCluster = { clusterId, isps: { alpha: alpha.entity.id, beta: beta.entity.id }, gateways };
  let { draftVersion } = await api.draft.status.query({ clusterId });
  await api.cluster.update.mutate({ id: clusterId, draftVersion, ha: haSettings(cluster, opts) });
  const activeActive = opts.mode === "active_active";
  for (const [key, priority] of [
    ["a", 150],
    ["b", 100],
  ] as const) {
    const g = lab.gateways[key];
    // active/active: each gateway's own LAN address, VRID and floating link addresses
    const own = ACTIVE_ACTIVE[key];
    ({ draftVersion } = await api.draft.status.query({ clusterId }));
    const r = await api.gateway.updateSettings.mutate({
      gatewayId: gateways[key].id,
      draftVersion,
      settings: {
        lanInterface: g.lan.iface,
        lanAddress: g.lan.address,
        priority,
        syncAddress: g.sync.address.split("/")[0] as string,
        lanVirtualAddress: activeActive ? own.lan : null,
        vrid: activeActive ? own.vrid : null,
        links: [
          {
            ispId: cluster.isps.alpha,
            interface: g.alpha.iface,
            localAddress: g.alpha.address,
            floatingAddress: activeActive ? own.alpha : null,
          },
          {
            ispId: cluster.isps.beta,
            interface: g.beta.iface,
            localAddress: g.beta.address,
            nextHop: g.beta.nextHop,
            floatingAddress: activeActive ? own.beta : null,
          },
        ],
      },
    });
    if (r.issues.length > 0) throw new Error(`gateway ${key} settings: ${JSON.stringify(r.issues)}`);
  }
  ({ draftVersion } = await api.draft.status.query({ clusterId }));
  await api.draft.publish.mutate({ clusterId, message: "HA lab", draftVersion });
  return cluster;
}

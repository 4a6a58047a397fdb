import { listPoolUsage } from "../pool-usage/list";
import { intervalSize, parseAddressRange, parseCidr } from "../../../core/address";
import type { LinkState } from "../../../core/health/link-state";
import type { HaStatus, VrrpState } from "../../../core/protocol/agent-api";
import type { Db } from "../../db";
import { parseHaStatus } from "../gateways/ha-report";
import { type ClusterFailoverView, loadClusterFailover } from "./cluster-state";
import { failedOverAnywhere } from "./impact";

/**
 * The cluster as a picture draws it: LAN networks -> gateways -> ISPs -> the internet, from the
 * published revision (what the gateways run) and each gateway's last reports. `buildTopology` is
 * pure; `clusterTopology` reads what it needs.
 */

export interface TopologyLan {
  id: string;
  name: string;
  networks: string[];
}

export interface TopologyGateway {
  id: string;
  name: string;
  online: boolean;
  drained: boolean;
  /** the VRRP role over its groups: one state when they agree, "mixed" when not; null without high availability */
  role: VrrpState | "mixed" | null;
}

export interface TopologyPool {
  id: string;
  name: string;
  addresses: number;
  /**
   * Share of the pool's ports in use, 0 to 1, once the console measures pool usage; null until
   * then (the picture then shows the pool's size only).
   */
  fill: number | null;
}

export interface TopologyLink {
  gatewayId: string;
  /** null: the gateway has not reported this ISP */
  state: LinkState | null;
  /** the backup this gateway sends the ISP's traffic through now */
  via: { ispId: string; name: string; mode: "admin" | "automatic" } | null;
  connections: number | null;
}

export interface TopologyIsp {
  id: string;
  name: string;
  interface: string;
  /** failed over by an operator (traffic on every gateway goes to a backup) */
  operatorFailover: { backupName: string | null; by: string } | null;
  /** some gateway sends the ISP's traffic through a backup now */
  failedOver: boolean;
  /** connections through the ISP on the online gateways; null when none counted */
  connections: number | null;
  pools: TopologyPool[];
  links: TopologyLink[];
}

export interface Topology {
  publishedRevision: number;
  lans: TopologyLan[];
  /** the interfaces named as LAN side in the settings (drawn when no zone is defined) */
  lanInterfaces: string[];
  gateways: TopologyGateway[];
  isps: TopologyIsp[];
}

function vrrpRole(ha: HaStatus | null): TopologyGateway["role"] {
  if (ha === null || ha.groups.length === 0) return null;
  const states = new Set(ha.groups.map((g) => g.state));
  return states.size === 1 ? (ha.groups[0]?.state ?? null) : "mixed";
}

function addressCount(entries: readonly string[]): number {
  let n = 0n;
  for (const e of entries) {
    const range = e.includes("/") ? parseCidr(e) : parseAddressRange(e);
    if (range.ok) n += intervalSize(range.value);
  }
  return Number(n);
}

export function buildTopology(
  view: ClusterFailoverView,
  extra: {
    gateways: ReadonlyMap<string, { drained: boolean; ha: HaStatus | null }>;
    /** port usage per pool id, 0 to 1, where measured */
    poolFill?: ReadonlyMap<string, number>;
  },
): Topology {
  const { policy } = view;
  const names = new Map(policy.isps.map((i) => [i.id, i.name]));
  return {
    publishedRevision: view.cluster.publishedRevision,
    lans: policy.zones.map((z) => ({ id: z.id, name: z.name, networks: z.networks })),
    lanInterfaces: policy.settings.lanInterfaces,
    gateways: view.gateways.map((g) => {
      const more = extra.gateways.get(g.id);
      return {
        id: g.id,
        name: g.name,
        online: g.online,
        drained: more?.drained ?? false,
        role: vrrpRole(more?.ha ?? null),
      };
    }),
    isps: [...policy.isps]
      .sort((a, b) => a.index - b.index)
      .map((isp) => {
        const admin = view.failover.get(isp.id);
        const links = view.gateways.map((g): TopologyLink => {
          const h = g.online ? g.isps[isp.id] : undefined;
          return {
            gatewayId: g.id,
            state: h?.state ?? null,
            via:
              h?.failover == null
                ? null
                : {
                    ispId: h.failover.backupIspId,
                    name: names.get(h.failover.backupIspId) ?? h.failover.backupIspId,
                    mode: h.failover.mode,
                  },
            connections: h?.connections ?? null,
          };
        });
        const counted = links.filter((l) => l.connections !== null);
        return {
          id: isp.id,
          name: isp.name,
          interface: isp.interface,
          operatorFailover:
            admin?.adminState === "failed_over"
              ? {
                  backupName: admin.backupIspId === null ? null : (names.get(admin.backupIspId) ?? admin.backupIspId),
                  by: admin.changedBy,
                }
              : null,
          failedOver: failedOverAnywhere(view, isp.id),
          connections: counted.length === 0 ? null : counted.reduce((s, l) => s + (l.connections ?? 0), 0),
          pools: policy.pools
            .filter((p) => p.ispId === isp.id)
            .map((p) => ({
              id: p.id,
              name: p.name,
              addresses: addressCount(p.addresses),
              fill: extra.poolFill?.get(p.id) ?? null,
            })),
          links,
        };
      }),
  };
}

export async function clusterTopology(db: Db, clusterId: string, now = new Date()): Promise<Topology> {
  const view = await loadClusterFailover(db, clusterId, now);
  const rows = await db.gateway.findMany({
    where: { clusterId },
    select: { id: true, drained: true, haStatus: true },
  });
  const gateways = new Map(rows.map((r) => [r.id, { drained: r.drained, ha: parseHaStatus(r.haStatus) }]));
  // each pool's fullest address toward its busiest destination, as the Pools page shows it
  const usage = await listPoolUsage(db, clusterId, now);
  const poolFill = new Map(usage.pools.filter((p) => p.addresses.length > 0).map((p) => [p.poolId, p.pct / 100]));
  return buildTopology(view, { gateways, poolFill });
}

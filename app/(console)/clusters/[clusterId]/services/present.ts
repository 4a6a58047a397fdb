import { formatFwmark } from "@/core/policy/match-criteria";
import type { RealServer, VirtualService } from "@/core/policy/virtual-service";
import { type RealServerStatus, type RealServerTraffic, sumTraffic } from "@/core/protocol/virtual-service-status";
import type { GatewayVirtualServices } from "@/server/services/gateways/virtual-service-status";

/**
 * Pure helpers of the Services page: a service's address in words, and what the gateways'
 * reports say about each real server (health on every gateway, traffic summed over them).
 */

/** "203.0.113.80:80/tcp"; a service on every port is "203.0.113.80:*\/tcp"; one chosen by mark "fwmark 0x10000000/0xf0000000". */
export function serviceAddress(
  s: Pick<VirtualService, "address" | "port" | "protocol"> & { fwmark?: VirtualService["fwmark"] },
): string {
  if (s.fwmark) return `fwmark ${formatFwmark(s.fwmark)}`;
  return `${s.address}:${s.port ?? "*"}/${s.protocol}`;
}

/** "100.64.10.2:8080"; without a port of its own, the port the client connected to. */
export function realServerAddress(s: Pick<VirtualService, "port">, rs: Pick<RealServer, "address" | "port">): string {
  return `${rs.address}:${rs.port ?? s.port ?? "*"}`;
}

export type Health = "up" | "down" | "unchecked" | "unknown";

export interface GatewayHealth {
  gatewayName: string;
  online: boolean;
  health: RealServerStatus["health"];
  since: string | null;
  lastError: string;
}

export interface RealServerView {
  /** down when any gateway finds it down, up when every reporting gateway finds it up */
  health: Health;
  byGateway: GatewayHealth[];
  /** summed over the online gateways; null when none reports traffic */
  traffic: RealServerTraffic | null;
}

function sameServer(service: VirtualService, rs: RealServer, st: RealServerStatus): boolean {
  return st.address === rs.address && (st.port === (rs.port ?? service.port) || st.port === rs.port);
}

/** What every online gateway reports about one real server of a service. */
export function realServerView(
  service: VirtualService,
  rs: RealServer,
  gateways: readonly GatewayVirtualServices[],
): RealServerView {
  const byGateway: GatewayHealth[] = [];
  let traffic: RealServerTraffic | null = null;
  for (const g of gateways) {
    const st = g.services.find((x) => x.serviceId === service.id)?.realServers.find((x) => sameServer(service, rs, x));
    if (st === undefined) continue;
    byGateway.push({
      gatewayName: g.gatewayName,
      online: g.online,
      health: st.health,
      since: st.since,
      lastError: st.lastError,
    });
    if (g.online && st.traffic !== undefined)
      traffic = traffic === null ? st.traffic : sumTraffic([traffic, st.traffic]);
  }
  const online = byGateway.filter((b) => b.online);
  const health: Health =
    online.length === 0
      ? "unknown"
      : online.some((b) => b.health === "down")
        ? "down"
        : online.every((b) => b.health === "unchecked")
          ? "unchecked"
          : "up";
  return { health, byGateway, traffic };
}

export interface ServiceView {
  realServers: RealServerView[];
  counts: Record<Health, number>;
  traffic: RealServerTraffic | null;
}

export function serviceView(service: VirtualService, gateways: readonly GatewayVirtualServices[]): ServiceView {
  const realServers = service.realServers.map((rs) => realServerView(service, rs, gateways));
  const counts: Record<Health, number> = { up: 0, down: 0, unchecked: 0, unknown: 0 };
  let traffic: RealServerTraffic | null = null;
  for (const v of realServers) {
    counts[v.health]++;
    if (v.traffic !== null) traffic = traffic === null ? v.traffic : sumTraffic([traffic, v.traffic]);
  }
  return { realServers, counts, traffic };
}

/** "3 up, 1 down"; "no report" when no gateway reports the service. */
export function healthSummary(counts: Record<Health, number>): string {
  const parts = (["up", "down", "unchecked"] as const).filter((h) => counts[h] > 0).map((h) => `${counts[h]} ${h}`);
  if (counts.unknown > 0 && parts.length > 0) parts.push(`${counts.unknown} not reported`);
  return parts.length > 0 ? parts.join(", ") : "no report";
}

export function healthClass(h: Health): string {
  if (h === "up") return "badge ok";
  if (h === "down") return "badge danger";
  return "badge";
}

export { formatBytes, formatCount } from "@/app/lib/units";

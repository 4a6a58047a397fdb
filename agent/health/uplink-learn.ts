import { isIPv4 } from "../../core/address";
import type { LearnedUplink } from "../../core/spec/learned-uplinks";
import type { GatewaySpec } from "../../core/spec/schema";
import { OWNED_ADDRESS_METRIC } from "../../core/spec/marks";

/**
 * Reads what the DHCP client or pppd set on a dynamic uplink, from `ip -j -4 route show table
 * main` and `ip -j -4 addr show` (pure: the poller in uplink-watch.ts runs the commands).
 *
 * - DHCP: the address is the interface's first IPv4 address (not one of the agent's own /32s);
 *   the next hop is the gateway of the default route through the interface with the lowest
 *   metric, which the client installs from the lease's router option (dhclient, udhcpc,
 *   systemd-networkd and NetworkManager all do).
 * - PPPoE: the ppp interface's address is point-to-point; the peer (`address` in ip's JSON) is the
 *   next hop. The interface is gone while the session is down: nothing is learned then.
 */

interface RouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
}

interface AddrJson {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; address?: string; prefixlen?: number; metric?: number }>;
}

const parse = <T>(text: string): T[] => {
  const t = text.trim();
  if (t === "") return [];
  const v: unknown = JSON.parse(t);
  if (!Array.isArray(v)) throw new Error("not a JSON array");
  return v as T[];
};

export function learnUplinks(spec: GatewaySpec, routesJson: string, addrsJson: string): LearnedUplink[] {
  const routes = parse<RouteJson>(routesJson);
  const addrs = parse<AddrJson>(addrsJson);
  const out: LearnedUplink[] = [];
  for (const isp of spec.isps) {
    if (isp.addressing === "static") continue;
    const infos = (addrs.find((a) => a.ifname === isp.interface)?.addr_info ?? []).filter(
      (i) => (i.family ?? "inet") === "inet" && isIPv4(i.local ?? "") && i.metric !== OWNED_ADDRESS_METRIC,
    );
    const own = infos[0];
    const address = own?.local ?? null;
    const viaDefault = routes
      .filter((r) => r.dst === "default" && r.dev === isp.interface && isIPv4(r.gateway ?? ""))
      .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0]?.gateway;
    const peer = infos.find((i) => i.address !== undefined && isIPv4(i.address) && i.address !== i.local)?.address;
    const nextHop = isp.addressing === "pppoe" ? (peer ?? viaDefault ?? null) : (viaDefault ?? null);
    out.push({ ispId: isp.id, interface: isp.interface, address, nextHop });
  }
  return out;
}

import {
  type GatewayLink,
  type GatewaySettings,
  type HaLink,
  type HaSettings,
  type Isp,
  type Policy,
  zGatewaySettings,
  zHaSettings,
} from "./model";

/**
 * The one reading of per-gateway and high-availability settings that validation, compile and the
 * console share: which ISP links a gateway has and with which values, and which ISPs the cluster
 * uses at all.
 */

/** A gateway of the cluster as compile and validation see it (gateways live outside the draft). */
export interface ClusterGateway {
  id: string;
  name: string;
  /** the operator drained it: priority 1 in every VRRP group, so the peers hold its addresses */
  drained: boolean;
}

/** High-availability settings of a cluster that has none. */
export function standaloneHa(): HaSettings {
  return zHaSettings.parse({});
}

/** The settings of a gateway that has no entry yet: every value from the ISPs and defaults. */
export function defaultGatewaySettings(gatewayId: string): GatewaySettings {
  return zGatewaySettings.parse({ gatewayId });
}

export function gatewaySettingsOf(policy: Policy, gatewayId: string): GatewaySettings {
  return policy.settings.gateways.find((g) => g.gatewayId === gatewayId) ?? defaultGatewaySettings(gatewayId);
}

export function haLinkOf(policy: Policy, ispId: string): HaLink | null {
  return policy.settings.ha.links.find((l) => l.ispId === ispId) ?? null;
}

/** One gateway's values on one ISP link: its overrides over the ISP's defaults. */
export interface ResolvedLink {
  isp: Isp;
  interface: string;
  nextHop: string;
  /** the gateway's own address on the link with prefix; null: not given */
  localAddress: string | null;
  /** active/active: the gateway's floating address on the link with prefix; null: none */
  floatingAddress: string | null;
  /** the override the values came from, if any */
  override: GatewayLink | null;
}

export function resolveLink(gateway: GatewaySettings, isp: Isp): ResolvedLink {
  const o = gateway.links.find((l) => l.ispId === isp.id) ?? null;
  return {
    isp,
    interface: o?.interface ?? isp.interface,
    nextHop: o?.nextHop ?? isp.nextHop,
    localAddress: o?.localAddress ?? isp.localAddress,
    floatingAddress: o?.floatingAddress ?? null,
    override: o,
  };
}

/**
 * The ISPs a cluster uses: those with a pool, and those a rule names as its egress or redirect
 * ISP. Their links must be complete on every gateway, and in a high-availability cluster each one
 * with floating addresses gets a VRRP instance.
 */
export function ispsInUse(policy: Policy): Isp[] {
  const used = new Set<string>();
  for (const pool of policy.pools) used.add(pool.ispId);
  for (const rule of policy.rules) {
    if (rule.egressIspId !== null) used.add(rule.egressIspId);
    if (rule.redirectIspId !== null) used.add(rule.redirectIspId);
  }
  return [...policy.isps].sort((a, b) => a.index - b.index).filter((i) => used.has(i.id));
}

/** The address part of "198.51.100.2/24". */
export const hostOf = (interfaceAddress: string): string => interfaceAddress.split("/")[0] ?? interfaceAddress;

import type { SpecConntrackSync, SpecHa, VrrpGroup, VrrpInstance } from "../spec/schema";
import { type ClusterGateway, gatewaySettingsOf, haLinkOf, hostOf, ispsInUse, resolveLink } from "./ha";
import type { GatewaySettings, Isp, Policy, Pool } from "./model";
import { slicePool } from "./pool-slices";

/**
 * The `ha` section of one gateway's spec: which VRRP groups it runs, with which priority, and the
 * addresses that float with them.
 *
 * active/standby: one sync group for the cluster, a LAN instance with the clients' default
 * gateway and one instance per ISP link with the ISP's floating link address and every on-link
 * pool address of the ISP. active/active: one group per gateway, owned by it (priority 250 on its
 * owner, the backups' own priority elsewhere), with the owner's LAN virtual address, its floating
 * link addresses and its slice of every on-link pool. A drained gateway has priority 1 everywhere.
 */

/** An active/active gateway's priority in its own group: above every operator-set priority. */
export const OWNER_PRIORITY = 250;
/** A drained gateway's priority in every group: below every other gateway's. */
export const DRAINED_PRIORITY = 1;

/** keepalived names: the cluster's group and instances in active/standby */
const CLUSTER_GROUP = "cluster";
const lanName = (prefix: string) => `${prefix}lan`;
const ispName = (prefix: string, isp: Isp) => `${prefix}isp${isp.index}`;

export interface HaCompileInput {
  policy: Policy;
  /** every gateway of the cluster, this one included */
  gateways: readonly ClusterGateway[];
  gatewayId: string;
  /** every address of a pool in bucket order (compile's poolAddresses) */
  addressesOf: (pool: Pool) => string[];
}

/**
 * Which gateway owns which address of an on-link pool in active/active: the slices every gateway's
 * SNAT uses (core/policy/pool-slices.ts), over all of the cluster's gateways, drained ones too:
 * draining moves addresses by VRRP, not by reassigning slices, so no connection changes its address.
 */
export function poolSliceOwners(pool: Pool, addresses: readonly string[], gateways: readonly ClusterGateway[]) {
  const owners = new Map<string, string>();
  const { byGateway } = slicePool(
    pool,
    addresses,
    gateways.map((g) => g.id),
  );
  for (const [gatewayId, mine] of byGateway) for (const a of mine) owners.set(a, gatewayId);
  return owners;
}

export function compileHa(input: HaCompileInput): SpecHa | null {
  const { policy, gatewayId } = input;
  const { ha } = policy.settings;
  if (ha.mode === "none") return null;
  const gateways = [...input.gateways].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const me = gateways.find((g) => g.id === gatewayId);
  if (me === undefined) throw new Error(`gateway ${gatewayId} is not one of the cluster's gateways`);
  const mine = gatewaySettingsOf(policy, gatewayId);
  const peers = gateways.filter((g) => g.id !== gatewayId).map((g) => gatewaySettingsOf(policy, g.id));
  const used = ispsInUse(policy);
  const onLinkPools = policy.pools.filter((p) => p.mode === "on-link");
  const need = <T>(value: T | null, what: string): T => {
    // validation refuses these before compile runs; this guards a caller that skipped it
    if (value === null) throw new Error(`gateway ${gatewayId}: ${what} is not set`);
    return value;
  };
  const peerHosts = (pick: (s: GatewaySettings) => string | null) =>
    ha.unicast ? peers.map(pick).filter((a): a is string => a !== null) : [];

  const lanInstance = (prefix: string, vrid: number, virtualAddress: string): VrrpInstance => ({
    name: lanName(prefix),
    kind: "lan",
    ispId: null,
    interface: need(mine.lanInterface, "the LAN interface"),
    vrid,
    ownAddress: hostOf(need(mine.lanAddress, "the own LAN address")),
    unicastPeers: peerHosts((s) => (s.lanAddress === null ? null : hostOf(s.lanAddress))),
    virtualAddresses: [virtualAddress],
  });
  const ispInstance = (prefix: string, isp: Isp, vrid: number, virtualAddresses: string[]): VrrpInstance => {
    const link = resolveLink(mine, isp);
    return {
      name: ispName(prefix, isp),
      kind: "isp",
      ispId: isp.id,
      interface: link.interface,
      vrid,
      ownAddress: hostOf(need(link.localAddress, `its own address on ISP "${isp.name}"`)),
      unicastPeers: peerHosts((s) => {
        const a = resolveLink(s, isp).localAddress;
        return a === null ? null : hostOf(a);
      }),
      virtualAddresses,
    };
  };
  const onLinkOf = (isp: Isp, keep: (address: string, pool: Pool) => boolean) =>
    onLinkPools
      .filter((p) => p.ispId === isp.id)
      .flatMap((p) => input.addressesOf(p).filter((a) => keep(a, p)))
      .map((a) => `${a}/32`);

  const groups: VrrpGroup[] = [];
  if (ha.mode === "active_standby") {
    const instances = [lanInstance("", ha.lanVrid, need(ha.lanVirtualAddress, "the cluster's LAN virtual address"))];
    for (const isp of used) {
      const link = haLinkOf(policy, isp.id);
      if (link === null) continue;
      const virtual = [...(link.floatingAddress ? [link.floatingAddress] : []), ...onLinkOf(isp, () => true)];
      if (virtual.length > 0) instances.push(ispInstance("", isp, link.vrid, virtual));
    }
    groups.push({
      name: CLUSTER_GROUP,
      ownerGatewayId: null,
      priority: me.drained ? DRAINED_PRIORITY : mine.priority,
      instances,
    });
  } else {
    const owners = new Map(onLinkPools.map((p) => [p.id, poolSliceOwners(p, input.addressesOf(p), gateways)]));
    for (const owner of gateways) {
      const theirs = gatewaySettingsOf(policy, owner.id);
      const vrid = need(theirs.vrid, `the VRID of gateway ${owner.id}'s group`);
      const prefix = `g${vrid}_`;
      const instances = [
        lanInstance(prefix, vrid, need(theirs.lanVirtualAddress, `the LAN virtual address of gateway ${owner.id}`)),
      ];
      for (const isp of used) {
        const floating = resolveLink(theirs, isp).floatingAddress;
        const slice = onLinkOf(isp, (a, p) => owners.get(p.id)?.get(a) === owner.id);
        const virtual = [...(floating ? [floating] : []), ...slice];
        if (virtual.length > 0) instances.push(ispInstance(prefix, isp, vrid, virtual));
      }
      groups.push({
        name: `g${vrid}`,
        ownerGatewayId: owner.id,
        priority: me.drained ? DRAINED_PRIORITY : owner.id === gatewayId ? OWNER_PRIORITY : mine.priority,
        instances,
      });
    }
  }

  let sync: SpecConntrackSync | null = null;
  if (ha.sync.enabled) {
    const peerAddresses = peers.map((s) => s.syncAddress).filter((a): a is string => a !== null);
    if (peerAddresses.length > 0) {
      sync = {
        interface: ha.sync.interface ?? need(mine.lanInterface, "the LAN interface"),
        ownAddress: need(mine.syncAddress, "the sync-link address"),
        peerAddresses,
        port: 3780,
      };
    }
  }

  return {
    mode: ha.mode,
    advertIntervalMs: ha.advertIntervalMs,
    preempt: ha.preempt,
    trackLinkWeight: ha.trackLinkWeight,
    drained: me.drained,
    groups,
    sync,
  };
}

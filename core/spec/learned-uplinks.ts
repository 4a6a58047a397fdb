import type { GatewaySpec } from "./schema";

/**
 * What a gateway learned about a DHCP or PPPoE uplink from the interface itself: the address its
 * client was given and the next hop (the DHCP router, the PPP peer). null: nothing yet (no lease,
 * ppp interface down or gone).
 */
export interface LearnedUplink {
  ispId: string;
  interface: string;
  address: string | null;
  nextHop: string | null;
}

/**
 * The spec the datapath runs: a dynamic ISP's next hop becomes the one learned (its routing
 * table, its ct-mark classifier on a shared link, its probes); probe targets that were the old
 * next hop follow it. An ISP with nothing learned keeps the policy's next hop, so its probes fail
 * and failover takes its traffic elsewhere until the uplink has an address again; it is marked
 * nextHopUnknown, so its table gets no route. Static ISPs are never touched. Returns the spec
 * itself when nothing changes.
 */
export function withLearnedUplinks(spec: GatewaySpec, learned: ReadonlyMap<string, LearnedUplink>): GatewaySpec {
  let changed = false;
  const isps = spec.isps.map((isp) => {
    const l = learned.get(isp.id);
    if (isp.addressing === "static") return isp;
    if (l?.nextHop == null) {
      changed = true;
      return { ...isp, nextHopUnknown: true };
    }
    if (l.nextHop === isp.nextHop) return isp;
    changed = true;
    const nextHop = l.nextHop;
    const probeTargets = [...new Set(isp.probeTargets.map((t) => (t === isp.nextHop ? nextHop : t)))];
    return { ...isp, nextHop, probeTargets };
  });
  return changed ? { ...spec, isps } : spec;
}

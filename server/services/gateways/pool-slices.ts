import type { Db } from "../../db";
import { ipv4ToBigInt, isIPv4 } from "../../../core/address";
import { gatewaySettingsOf, hostOf, resolveLink } from "../../../core/policy/ha";
import type { Isp, Policy } from "../../../core/policy/model";
import { planSlices } from "../../../core/policy/pool-slices";
import { zFacts } from "../../../core/protocol/agent-api";
import { getClusterOrThrow } from "../clusters/clusters";
import { loadRevisionPolicy } from "../draft/revisions";
import { draftSnapshot } from "../draft/snapshot";

/**
 * Who owns which pool addresses in a cluster and what the upstream must route where: the slices
 * the gateways' specs carry (core/policy/pool-slices.ts), for the Pools page. Read from the
 * published revision (what the gateways run), or from the draft before the first publish.
 */

/** The gateway's own address on an ISP's link, as its agent last reported it; null when unknown. */
export function linkAddressOf(factsJson: string, isp: { interface: string; nextHop: string }): string | null {
  let facts: ReturnType<typeof zFacts.parse>;
  try {
    const parsed = zFacts.safeParse(JSON.parse(factsJson));
    if (!parsed.success) return null;
    facts = parsed.data;
  } catch {
    return null;
  }
  const nic = facts.interfaces.find((i) => i.name === isp.interface);
  if (!nic) return null;
  const v4 = nic.addresses.filter((a) => isIPv4(a.split("/")[0] ?? ""));
  // the address in the next hop's subnet, else the first one
  const sameSubnet = (a: string) => {
    const [addr = "", len = "32"] = a.split("/");
    const prefix = Number(len);
    if (!isIPv4(isp.nextHop) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
    const shift = BigInt(32 - prefix);
    return ipv4ToBigInt(addr) >> shift === ipv4ToBigInt(isp.nextHop) >> shift;
  };
  return (v4.find(sameSubnet) ?? v4[0])?.split("/")[0] ?? null;
}

/**
 * Where an ISP must send a gateway's routed slice: in active/active, the gateway's floating
 * address on the link (it moves to a peer with the gateway's VRRP group, so the slice's replies
 * still reach the gateway that now holds it); otherwise the gateway's own address as its agent
 * reported it. Each gateway's own interface name for the ISP.
 */
export function upstreamTarget(policy: Policy, gatewayId: string, isp: Isp, factsJson: string) {
  const link = resolveLink(gatewaySettingsOf(policy, gatewayId), isp);
  const floating = policy.settings.ha.mode === "active_active" ? link.floatingAddress : null;
  return {
    interface: link.interface,
    linkAddress: floating !== null ? hostOf(floating) : linkAddressOf(factsJson, link),
    floating: floating !== null,
  };
}

export async function poolSlicesView(db: Db, clusterId: string) {
  const cluster = await getClusterOrThrow(db, clusterId);
  const revision = cluster.publishedRevision;
  const [policy, gateways] = await Promise.all([
    revision > 0
      ? loadRevisionPolicy(db, clusterId, revision)
      : draftSnapshot(db, clusterId).then((s): Policy => s.policy),
    db.gateway.findMany({
      where: { clusterId },
      select: { id: true, name: true, facts: true },
      orderBy: { name: "asc" },
    }),
  ]);
  const plan = planSlices(
    policy,
    gateways.map((g) => g.id),
  );
  const gatewayName = new Map(gateways.map((g) => [g.id, g.name]));
  const isps = new Map(policy.isps.map((i) => [i.id, i]));
  const facts = new Map(gateways.map((g) => [g.id, g.facts]));
  return {
    /** the published revision the slices come from; 0: the draft, nothing published yet */
    revision,
    haMode: policy.settings.ha.mode,
    inForce: plan.inForce,
    gateways: gateways.map((g) => ({ id: g.id, name: g.name })),
    pools: plan.pools.map((p) => {
      const pool = policy.pools.find((x) => x.id === p.poolId);
      return {
        ...p,
        name: pool?.name ?? p.poolId,
        mode: pool?.mode ?? "routed",
        ispName: isps.get(pool?.ispId ?? "")?.name ?? "",
        slices: p.slices.map((s) => ({ ...s, gatewayName: gatewayName.get(s.gatewayId) ?? s.gatewayId })),
      };
    }),
    upstream: plan.upstream.map((u) => {
      const isp = isps.get(u.ispId);
      return {
        ...u,
        ispName: isp?.name ?? u.ispId,
        gatewayName: gatewayName.get(u.gatewayId) ?? u.gatewayId,
        ...(isp
          ? upstreamTarget(policy, u.gatewayId, isp, facts.get(u.gatewayId) ?? "{}")
          : { interface: "", linkAddress: null, floating: false }),
      };
    }),
  };
}
export type PoolSlicesView = Awaited<ReturnType<typeof poolSlicesView>>;

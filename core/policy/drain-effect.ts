import { compileHa } from "./compile-ha";
import type { ClusterGateway } from "./ha";
import type { Policy, Pool } from "./model";

/**
 * What draining a gateway (or returning it to service) does to the addresses of each VRRP group:
 * which group moves from which gateway to which, with its addresses. The holder of a group now is
 * the master the gateways report, else the gateway with the highest priority; after the change
 * the highest-priority gateway takes over a group whose holder was drained, and a returning
 * gateway takes its groups back only when preempt is on.
 */

export interface GroupMove {
  group: string;
  addresses: string[];
  /** null: nobody holds it now */
  from: string | null;
  /** null: no other gateway can take it */
  to: string | null;
}

export interface DrainEffectInput {
  policy: Policy;
  /** every gateway of the cluster with its drained flag as it is now */
  gateways: readonly ClusterGateway[];
  gatewayId: string;
  drain: boolean;
  /** the master each group reports now; absent: not known */
  masters: ReadonlyMap<string, string>;
  addressesOf: (pool: Pool) => string[];
}

export function drainEffect(input: DrainEffectInput): GroupMove[] {
  const { policy } = input;
  if (policy.settings.ha.mode === "none" || input.gateways.length === 0) return [];
  const after = input.gateways.map((g) => (g.id === input.gatewayId ? { ...g, drained: input.drain } : g));
  const priorities = (gateways: readonly ClusterGateway[]) => {
    const byGroup = new Map<string, { id: string; priority: number; addresses: string[] }[]>();
    for (const g of gateways) {
      const ha = compileHa({ policy, gateways, gatewayId: g.id, addressesOf: input.addressesOf });
      for (const group of ha?.groups ?? []) {
        const addresses = group.instances.flatMap((i) => i.virtualAddresses);
        byGroup.set(group.name, [
          ...(byGroup.get(group.name) ?? []),
          { id: g.id, priority: group.priority, addresses },
        ]);
      }
    }
    return byGroup;
  };
  const top = (members: { id: string; priority: number }[], except: string | null) =>
    [...members]
      .filter((m) => m.id !== except && m.priority > 1)
      .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1))[0]?.id ?? null;
  const before = priorities(input.gateways);
  const next = priorities(after);
  const moves: GroupMove[] = [];
  for (const [group, members] of next) {
    const holder = input.masters.get(group) ?? top(before.get(group) ?? [], null);
    let to = holder;
    if (input.drain && holder === input.gatewayId) to = top(members, input.gatewayId);
    if (!input.drain && policy.settings.ha.preempt) to = top(members, null);
    if (to !== holder) moves.push({ group, addresses: members[0]?.addresses ?? [], from: holder, to });
  }
  return moves;
}

/** The effect in operator words, for the confirmation: "100.64.0.1/24 and 8 more move from gw-a to gw-b". */
export function describeDrainEffect(
  moves: readonly GroupMove[],
  nameOf: (id: string) => string,
  input: { drain: boolean; gatewayName: string; preempt: boolean },
): string[] {
  if (moves.length === 0) {
    if (input.drain)
      return [`Nothing moves now: "${input.gatewayName}" holds no VRRP group; it stays a backup with priority 1.`];
    return input.preempt
      ? [`Nothing moves now: "${input.gatewayName}" would hold no group by priority.`]
      : [
          `Nothing moves now: preempt is off, so the peers keep "${input.gatewayName}"'s addresses until they fail or are drained.`,
        ];
  }
  return moves.map((m) => {
    const shown = m.addresses.slice(0, 3).join(", ");
    const more = m.addresses.length > 3 ? ` and ${m.addresses.length - 3} more` : "";
    const from = m.from === null ? "no gateway" : `"${nameOf(m.from)}"`;
    if (m.to === null)
      return `Group "${m.group}" (${shown}${more}) leaves ${from} and no other gateway can take it: its addresses go down.`;
    return `Group "${m.group}": ${shown}${more} move from ${from} to "${nameOf(m.to)}".`;
  });
}

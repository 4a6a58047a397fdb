import type { RuleCounterDelta } from "../../../core/protocol/agent-api";
import type { Tx } from "../../db";

/**
 * Adds a gateway's rule counter deltas to its totals (one RuleCounter row per rule and gateway).
 * Deltas for rules the cluster no longer has (deleted from the draft while the gateway still runs
 * them) are dropped: a deleted rule's counters are gone with it. The agent's clock says when a
 * rule last decided a new connection; a time ahead of the console's is taken as the console's now.
 * Packets and bytes are those of the rules' connections, both ways.
 */
export async function recordRuleCounters(
  tx: Tx,
  gateway: { id: string; clusterId: string },
  deltas: readonly RuleCounterDelta[],
  now: Date,
): Promise<void> {
  if (deltas.length === 0) return;
  const ids = deltas.map((d) => d.ruleId);
  const [rules, rows] = await Promise.all([
    tx.rule.findMany({ where: { clusterId: gateway.clusterId, id: { in: ids } }, select: { id: true } }),
    tx.ruleCounter.findMany({
      where: { gatewayId: gateway.id, ruleId: { in: ids } },
      select: { ruleId: true, lastHitAt: true },
    }),
  ]);
  const known = new Set(rules.map((r) => r.id));
  const lastHit = new Map(rows.map((r) => [r.ruleId, r.lastHitAt]));
  for (const d of deltas) {
    if (!known.has(d.ruleId)) continue;
    const before = lastHit.get(d.ruleId) ?? null;
    // a delta with traffic only (open connections) leaves the last hit where it was
    const reported = d.lastHitAt === null ? null : new Date(Math.min(Date.parse(d.lastHitAt), now.getTime()));
    const lastHitAt = reported === null || (before !== null && before > reported) ? before : reported;
    const counts = { connections: BigInt(d.connections), packets: BigInt(d.packets), bytes: BigInt(d.bytes) };
    await tx.ruleCounter.upsert({
      where: { gatewayId_ruleId: { gatewayId: gateway.id, ruleId: d.ruleId } },
      create: { gatewayId: gateway.id, ruleId: d.ruleId, ...counts, lastHitAt, since: now },
      update: {
        connections: { increment: counts.connections },
        packets: { increment: counts.packets },
        bytes: { increment: counts.bytes },
        lastHitAt,
      },
      select: { ruleId: true },
    });
  }
}

import { z } from "zod";
import type { Db } from "../../db";
import { getClusterOrThrow } from "../clusters/clusters";

export const zRuleCountersInput = z.object({
  clusterId: z.string().min(1).max(64),
  /** only these rules (a page of the rules table); absent: every rule of the cluster */
  ruleIds: z.array(z.string().min(1).max(64)).max(1000).optional(),
});
export type TRuleCountersInput = z.infer<typeof zRuleCountersInput>;

export interface GatewayRuleCount {
  gatewayId: string;
  gatewayName: string;
  connections: number;
  packets: number;
  bytes: number;
  lastHitAt: Date | null;
}

export interface RuleCount {
  ruleId: string;
  /** new connections the rule decided, over every gateway, since each started reporting it */
  connections: number;
  /** packets and bytes of those connections, both directions */
  packets: number;
  bytes: number;
  /** the latest hit on any gateway; null: none reported */
  lastHitAt: Date | null;
  /**
   * since when the rule has matched nothing: its last hit, else the later of its creation and the
   * start of counting; null while no gateway of the cluster has reported counters
   */
  noMatchSince: Date | null;
  gateways: GatewayRuleCount[];
}

export interface RuleCounters {
  /** when the earliest of the cluster's gateways first reported counters (null: none has): "no match since" this */
  countingSince: Date | null;
  /** gateways that have reported counters; a rule without a row has counted 0 on each */
  gatewayCount: number;
  /** every rule asked for (every rule of the cluster when none were named), in id order */
  rules: RuleCount[];
}

/**
 * The rules' counters summed over the cluster's gateways. A rule with no row has counted nothing
 * on any gateway since the gateways first reported counters, which is what "no match since" needs.
 */
export async function getRuleCounters(db: Db, input: TRuleCountersInput): Promise<RuleCounters> {
  await getClusterOrThrow(db, input.clusterId);
  const rows = await db.ruleCounter.findMany({
    where: {
      gateway: { clusterId: input.clusterId },
      rule: { clusterId: input.clusterId },
      ...(input.ruleIds === undefined ? {} : { ruleId: { in: input.ruleIds } }),
    },
    select: {
      ruleId: true,
      connections: true,
      packets: true,
      bytes: true,
      lastHitAt: true,
      gateway: { select: { id: true, name: true } },
    },
    orderBy: [{ ruleId: "asc" }, { gateway: { name: "asc" } }],
  });
  const first = await db.ruleCounter.aggregate({
    where: { gateway: { clusterId: input.clusterId } },
    _min: { since: true },
  });
  const gateways = await db.ruleCounter.groupBy({
    by: ["gatewayId"],
    where: { gateway: { clusterId: input.clusterId } },
  });
  const rules = await db.rule.findMany({
    where: { clusterId: input.clusterId, ...(input.ruleIds === undefined ? {} : { id: { in: input.ruleIds } }) },
    select: { id: true, createdAt: true },
    orderBy: { id: "asc" },
  });
  const countingSince = first._min.since;
  const byRule = new Map<string, RuleCount>(
    rules.map((r) => [
      r.id,
      {
        ruleId: r.id,
        connections: 0,
        packets: 0,
        bytes: 0,
        lastHitAt: null,
        noMatchSince: countingSince === null ? null : r.createdAt > countingSince ? r.createdAt : countingSince,
        gateways: [],
      },
    ]),
  );
  for (const r of rows) {
    const rule = byRule.get(r.ruleId);
    if (rule === undefined) continue;
    const connections = Number(r.connections);
    const packets = Number(r.packets);
    const bytes = Number(r.bytes);
    rule.connections += connections;
    rule.packets += packets;
    rule.bytes += bytes;
    if (r.lastHitAt !== null && (rule.lastHitAt === null || r.lastHitAt > rule.lastHitAt)) {
      rule.lastHitAt = r.lastHitAt;
      rule.noMatchSince = r.lastHitAt;
    }
    rule.gateways.push({
      gatewayId: r.gateway.id,
      gatewayName: r.gateway.name,
      connections,
      packets,
      bytes,
      lastHitAt: r.lastHitAt,
    });
  }
  return { countingSince, gatewayCount: gateways.length, rules: [...byRule.values()] };
}

import { z } from "zod";
import type { Db, Tx } from "../../db";
import { staleVersion } from "../../errors";
import { type GatewaySettings, zClusterSettings, zGatewaySettingsFields } from "../../../core/policy/model";
import { type PolicyIssue, validatePolicy } from "../../../core/policy/validate";
import { gatewaySettingsOf } from "../../../core/policy/ha";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { loadDraftPolicy } from "../draft/rows";
import { getClusterOrThrow } from "../clusters/clusters";
import { getGatewayOrThrow } from "./gateways";
import { loadClusterGateways } from "./ha";

/**
 * One gateway's settings (its links, LAN, VRRP priority, sync address) in the cluster's draft:
 * read with its defaults, replaced whole, audited, and published with the rest of the policy.
 */

export const zGatewaySettingsUpdate = z.object({
  gatewayId: z.string().min(1).max(64),
  /** the cluster's draft version the edit was made against */
  draftVersion: z.number().int().min(1),
  settings: zGatewaySettingsFields,
});
export type GatewaySettingsUpdate = z.input<typeof zGatewaySettingsUpdate>;

/** The issues of the draft that are about this gateway's settings. */
function issuesOf(issues: PolicyIssue[], at: number): PolicyIssue[] {
  return issues.filter((i) => i.entity === "settings" && i.path[0] === "gateways" && i.path[1] === at);
}

export async function getGatewaySettings(db: Db, gatewayId: string) {
  const gw = await getGatewayOrThrow(db, gatewayId);
  const cluster = await getClusterOrThrow(db, gw.clusterId);
  const draft = await loadDraftPolicy(db as unknown as Tx, cluster);
  const at = draft.settings.gateways.findIndex((g) => g.gatewayId === gatewayId);
  const issues = validatePolicy(draft, { gateways: await loadClusterGateways(db, gw.clusterId) });
  return {
    gatewayId,
    gatewayName: gw.name,
    clusterId: gw.clusterId,
    draftVersion: cluster.draftVersion,
    settings: gatewaySettingsOf(draft, gatewayId),
    /** whether the draft has an entry yet (else every value is a default) */
    stored: at !== -1,
    issues: at === -1 ? issues.filter((i) => i.path[0] === "gateways" && i.path.length === 1) : issuesOf(issues, at),
  };
}

export async function updateGatewaySettings(db: Db, actor: Actor, meta: RequestMeta, given: GatewaySettingsUpdate) {
  const input = zGatewaySettingsUpdate.parse(given);
  return db.$transaction(async (tx) => {
    const gw = await getGatewayOrThrow(tx, input.gatewayId);
    const cluster = await getClusterOrThrow(tx, gw.clusterId);
    const settingsBefore = zClusterSettings.parse(JSON.parse(cluster.settings));
    const before = settingsBefore.gateways.find((g) => g.gatewayId === gw.id) ?? null;
    const entry: GatewaySettings = { ...input.settings, gatewayId: gw.id };
    const gateways = before
      ? settingsBefore.gateways.map((g) => (g.gatewayId === gw.id ? entry : g))
      : [...settingsBefore.gateways, entry];
    const settings = { ...settingsBefore, gateways };
    const changed = JSON.stringify(settings) !== JSON.stringify(settingsBefore);
    const { count } = await tx.cluster.updateMany({
      where: { id: cluster.id, draftVersion: input.draftVersion },
      data: { settings: JSON.stringify(settings), draftVersion: changed ? { increment: 1 } : undefined },
    });
    if (count === 0) throw staleVersion("The draft");
    if (changed) {
      await recordAudit(tx, {
        actor,
        meta,
        action: "gateway.settings_update",
        clusterId: cluster.id,
        targetType: "gateway",
        targetId: gw.id,
        before,
        after: entry,
      });
    }
    const draft = await loadDraftPolicy(tx, { ...cluster, settings: JSON.stringify(settings) });
    const issues = validatePolicy(draft, { gateways: await loadClusterGateways(tx, cluster.id) });
    const at = gateways.findIndex((g) => g.gatewayId === gw.id);
    return {
      draftVersion: input.draftVersion + (changed ? 1 : 0),
      settings: entry,
      issues: issuesOf(issues, at),
    };
  });
}

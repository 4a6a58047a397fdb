import { type ClusterSettings, type Isp, zClusterSettings } from "@/core/policy/model";
import { validateEntity } from "@/core/policy/validate";
import { type GroupedErrors, groupIssues } from "@/app/components/form-errors";
import { splitList } from "@/app/components/list-text";

/** The guard's two interface lists, as the settings hold them. */
export type GuardInterfaces = Pick<ClusterSettings, "lanInterfaces" | "internalInterfaces">;

export const GUARD_FIELDS = ["lanInterfaces", "internalInterfaces"] as const;

const zGuardInterfaces = zClusterSettings.pick({ lanInterfaces: true, internalInterfaces: true });

/**
 * The form's two texts checked as the console checks them: each name against the settings
 * schema, then the lists against the cluster's ISPs (an interface is a LAN's, an internal
 * network's or an ISP's, never two), with the same words the publish check uses.
 */
export function checkGuardInterfaces(
  text: { lan: string; internal: string },
  settings: ClusterSettings,
  isps: readonly Isp[],
): { ok: true; value: GuardInterfaces } | { ok: false; errors: GroupedErrors } {
  const parsed = zGuardInterfaces.safeParse({
    lanInterfaces: splitList(text.lan),
    internalInterfaces: splitList(text.internal),
  });
  if (!parsed.success) return { ok: false, errors: groupIssues("settings", parsed.error.issues, GUARD_FIELDS) };
  const next = { ...settings, ...parsed.data };
  const issues = validateEntity(
    { settings, isps: [...isps], pools: [], zones: [], rules: [] },
    "settings",
    next,
  ).filter((i) => GUARD_FIELDS.some((f) => i.path[0] === f));
  if (issues.length > 0) return { ok: false, errors: groupIssues("settings", issues, GUARD_FIELDS, true) };
  return { ok: true, value: parsed.data };
}

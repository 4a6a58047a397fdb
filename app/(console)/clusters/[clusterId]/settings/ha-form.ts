import { type HaMode, type HaSettings, zHaSettingsFields } from "@/core/policy/model";
import { type GroupedErrors, groupIssues, type Issue } from "@/app/components/form-errors";
import { numberField } from "@/app/components/list-text";

/**
 * The cluster's high-availability settings as the form holds them (texts as typed), read back
 * into settings with the API's schema, and the draft's issues placed under the field they name.
 * ISP links are keyed by ISP id in the form; the settings list them, so issues about
 * `ha.links.<n>` are moved to the ISP that entry is about.
 */

export interface HaLinkText {
  vrid: string;
  floatingAddress: string;
}

export interface HaFormText {
  mode: HaMode;
  lanVirtualAddress: string;
  lanVrid: string;
  advertIntervalMs: string;
  preempt: boolean;
  unicast: boolean;
  trackLinkWeight: string;
  syncEnabled: boolean;
  syncInterface: string;
  /** by ISP id; an empty VRID: no VRRP instance on that ISP's link */
  links: Record<string, HaLinkText>;
}

export const HA_MODE_EXPLANATIONS: Record<HaMode, string> = {
  none: "Each gateway stands alone. With two or more gateways each one SNATs to its own slice of every pool; a gateway that fails takes its clients' connections with it.",
  active_standby:
    "One gateway at a time (the VRRP master) holds the LAN virtual address and the pools; the others wait with the same rules and take over within about a second when it fails.",
  active_active:
    "Every gateway carries traffic: each holds its own LAN virtual address and its slice of the pools, and backs up the others' groups. Set each gateway's address and VRID on its page.",
};

export function haFormText(ha: HaSettings): HaFormText {
  const links: Record<string, HaLinkText> = {};
  for (const l of ha.links) links[l.ispId] = { vrid: String(l.vrid), floatingAddress: l.floatingAddress ?? "" };
  return {
    mode: ha.mode,
    lanVirtualAddress: ha.lanVirtualAddress ?? "",
    lanVrid: String(ha.lanVrid),
    advertIntervalMs: String(ha.advertIntervalMs),
    preempt: ha.preempt,
    unicast: ha.unicast,
    trackLinkWeight: String(ha.trackLinkWeight),
    syncEnabled: ha.sync.enabled,
    syncInterface: ha.sync.interface ?? "",
    links,
  };
}

const orNull = (t: string) => (t.trim() === "" ? null : t.trim());

/** The form's field keys: the cluster-wide ones, then one VRID and one floating address per ISP. */
const BASE_FIELDS = [
  "ha.mode",
  "ha.lanVirtualAddress",
  "ha.lanVrid",
  "ha.advertIntervalMs",
  "ha.trackLinkWeight",
  "ha.sync.interface",
] as const;

export const linkFieldKey = (ispId: string, field: "vrid" | "floatingAddress") => `ha.isp.${ispId}.${field}`;

/**
 * Groups issues whose paths start at the cluster settings ("ha", ...), with `links` the list the
 * issues' link indexes refer to.
 */
export function groupHaIssues(
  issues: readonly Issue[],
  links: readonly { ispId: string }[],
  fromServer: boolean,
): GroupedErrors {
  const ha = issues.filter((i) => i.path[0] === "ha");
  const linkKeys = links.flatMap((_, n) => [`ha.links.${n}.vrid`, `ha.links.${n}.floatingAddress`]);
  const grouped = groupIssues("settings", ha, [...BASE_FIELDS, ...linkKeys], fromServer);
  return keyLinksByIsp(grouped, "ha.links", links, (ispId, field) =>
    linkFieldKey(ispId, field as "vrid" | "floatingAddress"),
  );
}

/**
 * Moves the messages under `<prefix>.<n>.<field>` to the key `keyOf` gives the ISP of link entry
 * n: a form shows one row per ISP, the settings list only the ISPs that have an entry.
 */
export function keyLinksByIsp(
  grouped: GroupedErrors,
  prefix: string,
  links: readonly { ispId: string }[],
  keyOf: (ispId: string, field: string) => string,
): GroupedErrors {
  const byField: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(grouped.byField)) {
    const m = key.startsWith(`${prefix}.`) ? /^(\d+)\.(\w+)$/.exec(key.slice(prefix.length + 1)) : null;
    const ispId = m ? links[Number(m[1])]?.ispId : undefined;
    byField[m && ispId !== undefined ? keyOf(ispId, m[2] as string) : key] = messages;
  }
  return { byField, other: grouped.other };
}

/**
 * The settings the form's texts make, checked with the API's schema: the ISP links in the order
 * of `ispIds`, those with a VRID only (a floating address without one is an error at the VRID).
 */
export function readHaForm(
  text: HaFormText,
  ispIds: readonly string[],
): { ok: true; value: HaSettings } | { ok: false; errors: GroupedErrors } {
  const links: { ispId: string; vrid: number | string | undefined; floatingAddress: string | null }[] = [];
  const missingVrid: Issue[] = [];
  for (const ispId of ispIds) {
    const l = text.links[ispId];
    if (!l) continue;
    const vrid = numberField(l.vrid, undefined);
    if (vrid === undefined) {
      if (l.floatingAddress.trim() !== "") {
        missingVrid.push({
          path: ["ha", "links", links.length, "vrid"],
          message: "is required for a floating address",
        });
        links.push({ ispId, vrid: undefined, floatingAddress: orNull(l.floatingAddress) });
      }
      continue;
    }
    links.push({ ispId, vrid, floatingAddress: orNull(l.floatingAddress) });
  }
  const parsed = zHaSettingsFields.safeParse({
    mode: text.mode,
    lanVirtualAddress: orNull(text.lanVirtualAddress),
    lanVrid: numberField(text.lanVrid, undefined),
    advertIntervalMs: numberField(text.advertIntervalMs, undefined),
    preempt: text.preempt,
    unicast: text.unicast,
    trackLinkWeight: numberField(text.trackLinkWeight, undefined),
    sync: { enabled: text.syncEnabled, interface: orNull(text.syncInterface) },
    links,
  });
  if (missingVrid.length > 0 || !parsed.success) {
    const zodIssues: Issue[] = parsed.success
      ? []
      : parsed.error.issues
          .filter((i) => !(i.path[0] === "links" && missingVrid.some((m) => m.path[2] === i.path[1])))
          .map((i) => ({ ...i, path: ["ha", ...i.path] }));
    return { ok: false, errors: groupHaIssues([...missingVrid, ...zodIssues], links, false) };
  }
  return { ok: true, value: parsed.data };
}

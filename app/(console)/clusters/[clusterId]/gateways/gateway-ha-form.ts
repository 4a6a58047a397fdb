import { type GatewaySettings, zGatewaySettingsFields } from "@/core/policy/model";
import { type GroupedErrors, groupIssues, type Issue } from "@/app/components/form-errors";
import { numberField } from "@/app/components/list-text";
import { keyLinksByIsp } from "../settings/ha-form";

/**
 * One gateway's links and high-availability values as its form holds them (texts as typed; an
 * empty link field takes the ISP's value), read back with the API's schema, and the draft's
 * issues about the gateway placed under the field they name.
 */

export const GATEWAY_LINK_FIELDS = ["interface", "nextHop", "localAddress", "floatingAddress"] as const;
export type GatewayLinkField = (typeof GATEWAY_LINK_FIELDS)[number];

export interface GatewayFormText {
  lanInterface: string;
  lanAddress: string;
  lanVirtualAddress: string;
  vrid: string;
  priority: string;
  syncAddress: string;
  /** by ISP id */
  links: Record<string, Record<GatewayLinkField, string>>;
}

const FIELDS = ["lanInterface", "lanAddress", "lanVirtualAddress", "vrid", "priority", "syncAddress"] as const;

export const gatewayLinkKey = (ispId: string, field: string) => `isp.${ispId}.${field}`;

export function gatewayFormText(s: Omit<GatewaySettings, "gatewayId">): GatewayFormText {
  const links: GatewayFormText["links"] = {};
  for (const l of s.links) {
    links[l.ispId] = {
      interface: l.interface ?? "",
      nextHop: l.nextHop ?? "",
      localAddress: l.localAddress ?? "",
      floatingAddress: l.floatingAddress ?? "",
    };
  }
  return {
    lanInterface: s.lanInterface ?? "",
    lanAddress: s.lanAddress ?? "",
    lanVirtualAddress: s.lanVirtualAddress ?? "",
    vrid: s.vrid === null ? "" : String(s.vrid),
    priority: String(s.priority),
    syncAddress: s.syncAddress ?? "",
    links,
  };
}

const orNull = (t: string) => (t.trim() === "" ? null : t.trim());

/**
 * Groups issues about one gateway's entry, their paths relative to the entry ("lanAddress",
 * "links", 0, "nextHop"), with `links` the list the link indexes refer to.
 */
export function groupGatewayIssues(
  issues: readonly Issue[],
  links: readonly { ispId: string }[],
  fromServer: boolean,
): GroupedErrors {
  // worded as the settings' gateway entries, whose labels the policy's wording knows
  const asEntry = issues.map((i) => ({ ...i, path: ["gateways", 0, ...i.path] }));
  const keys = [
    ...FIELDS.map((f) => `gateways.0.${f}`),
    ...links.flatMap((_, n) => GATEWAY_LINK_FIELDS.map((f) => `gateways.0.links.${n}.${f}`)),
  ];
  const grouped = groupIssues("settings", asEntry, keys, fromServer);
  const byLink = keyLinksByIsp(grouped, "gateways.0.links", links, gatewayLinkKey);
  const byField: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(byLink.byField)) byField[key.replace(/^gateways\.0\./, "")] = messages;
  return { byField, other: byLink.other };
}

/** The server's issues about a gateway's entry, relative to it; those about the whole list go to the form. */
export function entryIssues(issues: readonly Issue[]): Issue[] {
  return issues.map((i) =>
    i.path[0] === "gateways" && typeof i.path[1] === "number" ? { ...i, path: i.path.slice(2) } : { ...i, path: [] },
  );
}

/** The settings the form's texts make, checked with the API's schema: links only for ISPs with a value. */
export function readGatewayForm(
  text: GatewayFormText,
  ispIds: readonly string[],
): { ok: true; value: Omit<GatewaySettings, "gatewayId"> } | { ok: false; errors: GroupedErrors } {
  const links = ispIds.flatMap((ispId) => {
    const l = text.links[ispId];
    if (!l || GATEWAY_LINK_FIELDS.every((f) => l[f].trim() === "")) return [];
    return [
      {
        ispId,
        interface: orNull(l.interface),
        nextHop: orNull(l.nextHop),
        localAddress: orNull(l.localAddress),
        floatingAddress: orNull(l.floatingAddress),
      },
    ];
  });
  const parsed = zGatewaySettingsFields.safeParse({
    lanInterface: orNull(text.lanInterface),
    lanAddress: orNull(text.lanAddress),
    lanVirtualAddress: orNull(text.lanVirtualAddress),
    vrid: numberField(text.vrid, null),
    priority: numberField(text.priority, undefined),
    syncAddress: orNull(text.syncAddress),
    links,
  });
  if (!parsed.success) return { ok: false, errors: groupGatewayIssues(parsed.error.issues, links, false) };
  return { ok: true, value: parsed.data };
}

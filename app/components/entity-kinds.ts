import type { EntityKind } from "@/core/policy/model";

/** The entities the cluster pages create, edit and delete one at a time (settings are edited whole). */
export type EditableKind = Exclude<EntityKind, "settings">;

/** How forms, buttons and confirmations name one of each kind: "New ISP", "Edit pool telia-a". */
export const ENTITY_NOUNS: Record<EditableKind, string> = { isp: "ISP", pool: "pool", zone: "zone", rule: "rule" };

/** An entity as the API lists it: with the version an update or a delete must name. */
export interface VersionedRow<E> {
  entity: E;
  version: number;
}

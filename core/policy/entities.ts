import type { z } from "zod";
import {
  type Isp,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  zIspFields,
  zPoolFields,
  zRuleFields,
  zZoneFields,
} from "./model";
import { rulePositions } from "./order";
import { ruleName } from "./rule-name";

/**
 * The policy's vocabulary, defined once for the console, the browser and the checks: which kinds
 * of entity a policy holds, where each lives in a Policy, how each is named in words, and the
 * schema of the fields an operator edits.
 */

/** The entities a cluster's pages create, edit and delete one at a time. */
export const ENTITY_KINDS = ["isp", "pool", "zone", "rule"] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** What a check or a field label can be about: an entity, or the cluster's settings (edited whole). */
export type PolicyPart = EntityKind | "settings";

export type PolicyEntity = Isp | Pool | Zone | Rule;
export type EntityOf = { isp: Isp; pool: Pool; zone: Zone; rule: Rule };

/** Where each kind lives in a Policy. */
export const LIST_KEY = { isp: "isps", pool: "pools", zone: "zones", rule: "rules" } as const satisfies Record<
  EntityKind,
  string
>;

/** A kind inside a sentence: "another pool", "New ISP". */
export const ENTITY_NOUN: Record<EntityKind, string> = { isp: "ISP", pool: "pool", zone: "zone", rule: "rule" };

/** A kind at the start of a sentence: "Pool p-1 was not found". */
export const ENTITY_TITLE: Record<EntityKind, string> = { isp: "ISP", pool: "Pool", zone: "Zone", rule: "Rule" };

/** The fields an operator edits, per kind: the forms and the API check with the same schemas. */
export const FIELD_SCHEMAS = {
  isp: zIspFields,
  pool: zPoolFields,
  zone: zZoneFields,
  rule: zRuleFields,
} as const;

export type FieldsOf<K extends EntityKind> = z.infer<(typeof FIELD_SCHEMAS)[K]>;

/**
 * How an entity is named in messages: `pool "telia-a"`; a rule, which has no name, by its place in
 * the policy's effective order and its comment (`rule #3 "guest wifi"`, core/policy/rule-name.ts).
 */
export function describeEntity(kind: EntityKind, e: PolicyEntity, policy?: Policy): string {
  if (kind === "rule") {
    const position = policy ? rulePositions(policy).get(e.id) : undefined;
    return `rule ${ruleName(position, e as Rule)}`;
  }
  return `${ENTITY_NOUN[kind]} "${(e as Isp | Pool | Zone).name}"`;
}

import { conflict, notFound } from "../../errors";
import type { Isp, Policy, Pool, Rule, Zone } from "../../../core/policy/model";
import { dependentsOf, type PolicyIssue } from "../../../core/policy/validate";
import { newProblems } from "../../../core/policy/bulk-plan";
import { canonicalJson } from "./snapshot";
import { describeEntity, LIST_KEY, type PolicyPart } from "../../../core/policy/entities";

/**
 * Pure planning of "discard this one change": the draft with one entity (or the settings) put
 * back as the published revision has it. Refused, with the reason in words, when other draft
 * changes depend on the change: a rule added in the draft that uses a pool added in the draft
 * keeps that pool, a pool whose published addresses another draft pool now holds keeps its new
 * addresses, and so on.
 */

type Entity = Isp | Pool | Zone | Rule;

export type DiscardOp =
  | { op: "delete"; kind: Exclude<PolicyPart, "settings">; id: string; before: Entity }
  | { op: "create"; kind: Exclude<PolicyPart, "settings">; id: string; entity: Entity }
  | { op: "update"; kind: Exclude<PolicyPart, "settings">; id: string; before: Entity; entity: Entity }
  | { op: "settings"; before: Policy["settings"]; settings: Policy["settings"] };

export interface DiscardPlan {
  op: DiscardOp;
  /** how the change is named in messages, e.g. `adding pool "b-main"` */
  what: string;
  after: Policy;
}

const KIND_WORDS = { isp: "ISP", pool: "pool", zone: "zone", rule: "rule" } as const;

export function planDiscard(
  draft: Policy,
  published: Policy,
  draftIssues: readonly PolicyIssue[],
  kind: PolicyPart,
  id: string | null,
): DiscardPlan {
  let plan: DiscardPlan;
  if (kind === "settings") {
    if (canonicalJson(draft.settings) === canonicalJson(published.settings)) {
      throw conflict("The cluster settings have no draft change to discard");
    }
    plan = {
      op: { op: "settings", before: draft.settings, settings: published.settings },
      what: "the change to the cluster settings",
      after: { ...draft, settings: published.settings },
    };
  } else {
    const key = LIST_KEY[kind];
    const mine = (draft[key] as Entity[]).find((e) => e.id === id);
    const theirs = (published[key] as Entity[]).find((e) => e.id === id);
    if (id === null || (mine === undefined && theirs === undefined)) {
      throw notFound(`${KIND_WORDS[kind]} ${id ?? ""}`.trim());
    }
    if (mine !== undefined && theirs === undefined) {
      const what = `adding ${describeEntity(kind, mine, draft)}`;
      const deps = dependentsOf(draft, kind, id);
      if (deps.length > 0) {
        const names = deps.slice(0, 5).map((d) => d.message);
        const more = deps.length > 5 ? ` and ${deps.length - 5} more` : "";
        throw conflict(
          `Cannot discard ${what}: other draft changes depend on it (${names.join("; ")}${more}). Discard or change those first.`,
        );
      }
      plan = {
        op: { op: "delete", kind, id, before: mine },
        what,
        after: { ...draft, [key]: (draft[key] as Entity[]).filter((e) => e.id !== id) },
      };
    } else if (mine === undefined && theirs !== undefined) {
      plan = {
        op: { op: "create", kind, id, entity: theirs },
        what: `deleting ${describeEntity(kind, theirs, published)}`,
        after: { ...draft, [key]: [...(draft[key] as Entity[]), theirs] },
      };
    } else {
      const before = mine as Entity;
      const entity = theirs as Entity;
      if (canonicalJson(before) === canonicalJson(entity)) {
        throw conflict(`${describeEntity(kind, entity, draft)} has no draft change to discard`);
      }
      plan = {
        op: { op: "update", kind, id, before, entity },
        what: `the change to ${describeEntity(kind, entity, draft)}`,
        after: { ...draft, [key]: (draft[key] as Entity[]).map((e) => (e.id === id ? entity : e)) },
      };
    }
  }
  const problems = newProblems(draftIssues, plan.after);
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    throw conflict(
      `Cannot discard ${plan.what}: it would clash with other draft changes: ${problems.slice(0, 3).join("; ")}${more}. Discard or change those first.`,
    );
  }
  return plan;
}

import type { Db } from "../../db";
import { diffPolicies, type PolicyDiff } from "../../../core/policy/diff";
import { describeIssue } from "../../../core/policy/validate";
import { diffText, nameLookup } from "../../../core/policy/change-text";
import { virtualServiceChangeText } from "../../../core/policy/virtual-service-change-text";
import { virtualServiceProblems } from "../../../core/policy/virtual-service-validate";
import { canonicalJson, type DraftSnapshot, draftSnapshot, publishedPolicy } from "./snapshot";

/**
 * What the draft changes against the published revision: a cheap summary for the banner every
 * cluster page shows, and the full list in words for the Changes page.
 */

async function publishedOf(db: Db, snap: DraftSnapshot) {
  return publishedPolicy(db, snap.clusterId, snap.publishedRevision, canonicalJson(snap.policy.settings));
}

/** Counts of added, removed and changed entities, from per-entity fingerprints (no field diff). */
export async function draftSummary(db: Db, clusterId: string) {
  const snap = await draftSnapshot(db, clusterId);
  const mine = snap.fingerprints();
  const theirs = (await publishedOf(db, snap)).fingerprints();
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const [key, text] of mine) {
    const old = theirs.get(key);
    if (old === undefined) added++;
    else if (old !== text) changed++;
  }
  for (const key of theirs.keys()) if (!mine.has(key)) removed++;
  const total = added + removed + changed;
  return {
    draftVersion: snap.draftVersion,
    publishedRevision: snap.publishedRevision,
    dirty: total > 0,
    summary: { added, removed, changed, total },
  };
}

const diffs = new WeakMap<DraftSnapshot, PolicyDiff>();

export const CHANGES_LIST_MAX = 200;

/** Every draft change in words (the first `limit` of each kind), and the problems that block publishing. */
export async function draftChanges(db: Db, clusterId: string, limit = CHANGES_LIST_MAX) {
  const snap = await draftSnapshot(db, clusterId);
  const published = await publishedOf(db, snap);
  let diff = diffs.get(snap);
  if (diff === undefined) {
    diff = diffPolicies(published.policy, snap.policy);
    diffs.set(snap, diff);
  }
  const text = diffText(
    {
      ...diff,
      isps: diff.isps.slice(0, limit),
      pools: diff.pools.slice(0, limit),
      zones: diff.zones.slice(0, limit),
      rules: diff.rules.slice(0, limit),
    },
    nameLookup(published.policy, snap.policy),
  );
  const virtualServices = diff.virtualServices ?? [];
  return {
    draftVersion: snap.draftVersion,
    publishedRevision: snap.publishedRevision,
    dirty: diff.summary.total > 0,
    summary: diff.summary,
    counts: { isps: diff.isps.length, pools: diff.pools.length, zones: diff.zones.length, rules: diff.rules.length },
    ...text,
    virtualServices: virtualServices.slice(0, limit).map(virtualServiceChangeText),
    problems: [...snap.issues().map((i) => describeIssue(snap.policy, i)), ...virtualServiceProblems(snap.policy)],
  };
}

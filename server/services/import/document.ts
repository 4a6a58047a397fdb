import { randomBytes } from "node:crypto";
import { claimDraftVersion } from "../draft/claim";
import { z } from "zod";
import type { Db } from "../../db";
import { conflict, invalid, staleVersion } from "../../errors";
import { readPolicyDocument } from "../../../core/export/document";
import { diffText, nameLookup } from "../../../core/policy/change-text";
import { diffPolicies, isEmptyDiff } from "../../../core/policy/diff";
import { IMPORT_LIMITS } from "../../../core/import/types";
import { zId } from "../../../core/policy/model";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { writeDraft } from "../draft/revisions";
import { draftSnapshot } from "../draft/snapshot";

/**
 * Makes the draft match a YAML policy document (`gatehouse apply -f cluster.yaml`): the plan is
 * the diff from the draft to the document; writing it replaces the draft in one audited
 * transaction at the planned draft version. Entities keep their ids where the document names them
 * (or, without ids, where a draft entity has the same name).
 */

export const zDocumentInput = z.object({
  clusterId: zId,
  yaml: z.string().max(IMPORT_LIMITS.maxBytes, `is larger than ${IMPORT_LIMITS.maxBytes / 1_000_000} MB`),
});
export const zDocumentWriteInput = zDocumentInput.extend({ draftVersion: z.number().int().min(1) });

async function plan(db: Db, input: z.infer<typeof zDocumentInput>) {
  const snap = await draftSnapshot(db, input.clusterId);
  const doc = readPolicyDocument(input.yaml, {
    existing: snap.policy,
    onlyExistingIds: true,
    idPrefix: `doc${randomBytes(4).toString("hex")}`,
  });
  if (doc.errors.length > 0) {
    throw invalid(`The document is not a valid policy: ${doc.errors.slice(0, 5).join("; ")}`);
  }
  const diff = diffPolicies(snap.policy, doc.policy);
  return { snap, doc, diff };
}

export async function planDocument(db: Db, input: z.infer<typeof zDocumentInput>) {
  const { snap, doc, diff } = await plan(db, input);
  return {
    draftVersion: snap.draftVersion,
    summary: diff.summary,
    changes: diffText(diff, nameLookup(snap.policy, doc.policy)),
  };
}

export async function writeDocument(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: z.infer<typeof zDocumentWriteInput>,
) {
  const { snap, doc, diff } = await plan(db, input);
  if (snap.draftVersion !== input.draftVersion) throw staleVersion("The draft");
  if (isEmptyDiff(diff)) throw conflict("Nothing to change: the draft already matches the document");
  await db.$transaction(
    async (tx) => {
      await claimDraftVersion(tx, input.clusterId, input.draftVersion);
      await writeDraft(tx, input.clusterId, doc.policy);
      await recordAudit(tx, {
        actor,
        meta,
        action: "draft.apply-document",
        clusterId: input.clusterId,
        targetType: "draft",
        targetId: input.clusterId,
        before: { draftVersion: input.draftVersion },
        after: { changes: diff.summary },
      });
    },
    { timeout: 120_000, maxWait: 20_000 },
  );
  const cluster = await getClusterOrThrow(db, input.clusterId);
  return { draftVersion: cluster.draftVersion, summary: diff.summary };
}

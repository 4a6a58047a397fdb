import { randomBytes } from "node:crypto";
import { claimDraftVersion } from "../draft/claim";
import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, invalid, staleVersion } from "../../errors";
import { diffText, nameLookup } from "../../../core/policy/change-text";
import { diffPolicies } from "../../../core/policy/diff";
import { zId } from "../../../core/policy/model";
import { describeWarning, policyWarnings } from "../../../core/policy/warnings";
import {
  IMPORT_FORMATS,
  IMPORT_LIMITS,
  type ImportChangeSet,
  ImportError,
  type ImportResult,
  importPolicy,
} from "../../../core/import/index";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import {
  ispToData,
  poolToData,
  ruleToData,
  virtualServiceFromRow,
  virtualServiceToData,
  zoneToData,
} from "../draft/rows";
import { draftSnapshot } from "../draft/snapshot";

/**
 * Importing configuration text into a cluster's draft. The preview parses the text against the
 * draft as it is now and shows every line's result, the questions, the draft diff and the new
 * warnings; applying names the draft version it previewed, parses again and adds everything in
 * one transaction with one audit event, or changes nothing. An import never publishes.
 */

const MB = IMPORT_LIMITS.maxBytes / 1_000_000;

const zText = z
  .string()
  .max(IMPORT_LIMITS.maxBytes, `is larger than ${MB} MB: import at most ${MB} MB of configuration text at once`);

export const zImportInput = z.object({
  clusterId: zId,
  text: zText,
  format: z.enum(IMPORT_FORMATS).optional(),
  /** the uploaded file's name: keepalived includes are relative to it */
  fileName: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9._/-]+$/, "may contain only letters, digits, '.', '_', '-' and '/'")
    .optional(),
  /** other files of the upload, by path relative to the first, for keepalived includes */
  files: z.record(z.string().max(200), zText).optional(),
  answers: z.record(z.string().max(300), z.string().max(200)).optional(),
  /** keepalived: the gateway whose configuration this is; its own VRRP values go into its settings */
  gatewayId: zId.optional(),
});
export type ImportInput = z.infer<typeof zImportInput>;

export const zImportApplyInput = zImportInput.extend({ draftVersion: z.number().int().min(1) });
export type ImportApplyInput = z.infer<typeof zImportApplyInput>;

/** Lines listed one by one in a preview; the counts are always exact. */
export const PREVIEW_LINES_MAX = 5_000;

function parse(input: ImportInput, policy: Parameters<typeof importPolicy>[1]): ImportResult {
  const files = input.files ?? {};
  const total = input.text.length + Object.values(files).reduce((n, t) => n + t.length, 0);
  if (total > IMPORT_LIMITS.maxBytes) {
    throw invalid(`The files are larger than ${MB} MB together: import at most ${MB} MB of configuration text at once`);
  }
  if (Object.keys(files).length > IMPORT_LIMITS.maxIncludes) {
    throw invalid(`At most ${IMPORT_LIMITS.maxIncludes} files can be imported at once`);
  }
  try {
    return importPolicy(input.text, policy, {
      format: input.format,
      answers: input.answers,
      fileName: input.fileName ?? "keepalived.conf",
      baseDir: ".",
      readFile: (path) => files[path] ?? files[`./${path}`] ?? null,
      idPrefix: `imp${randomBytes(4).toString("hex")}`,
      ...(input.gatewayId === undefined ? {} : { gatewayId: input.gatewayId }),
    });
  } catch (e) {
    if (e instanceof ImportError) throw invalid(`Cannot import: ${e.message}. Nothing was changed.`);
    throw e;
  }
}

function counts(c: ImportChangeSet) {
  return {
    isps: c.isps.length,
    pools: c.pools.length,
    zones: c.zones.length,
    rules: c.rules.length,
    virtualServices: c.virtualServices.length,
    haSettings: c.ha ? 1 : 0,
    gatewaySettings: c.gateway ? 1 : 0,
  };
}

function lineCounts(r: ImportResult) {
  const out = { imported: 0, merged: 0, ignored: 0, "not-imported": 0, question: 0 };
  for (const l of r.lines) out[l.status]++;
  return out;
}

/** The draft with its virtual services, so an import matches them (the snapshot has the SNAT side). */
async function draftWithServices(db: Db, clusterId: string, gatewayId?: string) {
  if (gatewayId !== undefined) {
    const gw = await db.gateway.findFirst({ where: { id: gatewayId, clusterId }, select: { id: true } });
    if (gw === null) {
      throw invalid("gatewayId: no such gateway in this cluster", [
        { path: ["gatewayId"], message: "is not a gateway of this cluster" },
      ]);
    }
  }
  const snap = await draftSnapshot(db, clusterId);
  const rows = await db.virtualService.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
  const policy = rows.length ? { ...snap.policy, virtualServices: rows.map(virtualServiceFromRow) } : snap.policy;
  return { snap, policy };
}

/** What importing the text would add to the draft, line by line, without changing anything. */
export async function previewImport(db: Db, input: ImportInput) {
  const { snap, policy } = await draftWithServices(db, input.clusterId, input.gatewayId);
  const result = parse(input, policy);
  const diff = diffPolicies(policy, result.policy);
  const oldWarnings = new Set(snap.warnings().map((w) => `${w.code}|${w.entity}|${w.id}|${w.message}`));
  const warnings = policyWarnings(result.policy)
    .filter((w) => !oldWarnings.has(`${w.code}|${w.entity}|${w.id}|${w.message}`))
    .map((w) => describeWarning(result.policy, w));
  return {
    draftVersion: snap.draftVersion,
    format: result.format,
    lineCount: result.lines.length,
    lineCounts: lineCounts(result),
    lines: result.lines.slice(0, PREVIEW_LINES_MAX),
    questions: result.questions,
    notes: result.notes,
    problems: result.problems,
    warnings,
    counts: counts(result.changes),
    changes: diffText(diff, nameLookup(snap.policy, result.policy)),
    /** what stops "Add to draft": open questions, problems, or nothing to add */
    blockers: blockers(result),
  };
}

export type ImportPreview = Awaited<ReturnType<typeof previewImport>>;

function blockers(r: ImportResult): string[] {
  const out: string[] = [];
  if (r.questions.length > 0) out.push(`${r.questions.length} question(s) need an answer first`);
  if (r.problems.length > 0) {
    out.push(`the draft would have ${r.problems.length} new problem(s): ${r.problems.slice(0, 3).join("; ")}`);
  }
  const c = r.changes;
  const entities = c.isps.length + c.pools.length + c.zones.length + c.rules.length + c.virtualServices.length;
  if (entities === 0 && !c.ha && !c.gateway) out.push("nothing to add");
  return out;
}

async function insertChanges(
  tx: Tx,
  clusterId: string,
  changes: ImportChangeSet,
  settings: ImportResult["policy"]["settings"],
) {
  const n =
    changes.isps.length +
    changes.pools.length +
    changes.zones.length +
    changes.rules.length +
    changes.virtualServices.length;
  const c = await tx.cluster.update({
    where: { id: clusterId },
    data: { nextSeq: { increment: n } },
    select: { nextSeq: true },
  });
  let seq = c.nextSeq - n;
  if (changes.isps.length) {
    await tx.isp.createMany({
      data: changes.isps.map((i) => ({ id: i.id, clusterId, seq: seq++, index: i.index, ...ispToData(i) })),
    });
  }
  if (changes.pools.length) {
    await tx.pool.createMany({
      data: changes.pools.map((p) => ({ id: p.id, clusterId, seq: seq++, ...poolToData(p) })),
    });
  }
  if (changes.zones.length) {
    await tx.zone.createMany({
      data: changes.zones.map((z) => ({ id: z.id, clusterId, seq: seq++, ...zoneToData(z) })),
    });
  }
  if (changes.virtualServices.length) {
    await tx.virtualService.createMany({
      data: changes.virtualServices.map((v) => ({ id: v.id, clusterId, seq: seq++, ...virtualServiceToData(v) })),
    });
  }
  // keepalived VRRP instances and the rule order: the cluster's settings (the rest as the draft had them)
  if (changes.ha || changes.gateway || changes.ruleOrder) {
    await tx.cluster.update({ where: { id: clusterId }, data: { settings: JSON.stringify(settings) } });
  }
  // rules keep their relative creation order: it is the last tie-breaker of rule order
  if (changes.rules.length) {
    await tx.rule.createMany({
      data: changes.rules.map((r) => ({ id: r.id, clusterId, seq: seq++, ...ruleToData(r) })),
    });
  }
}

/** Adds what the text imports to the draft: all of it in one transaction, or nothing. */
export async function applyImport(db: Db, actor: Actor, meta: RequestMeta, input: ImportApplyInput) {
  const { snap, policy } = await draftWithServices(db, input.clusterId, input.gatewayId);
  if (snap.draftVersion !== input.draftVersion) throw staleVersion("The draft");
  const result = parse(input, policy);
  const blocking = blockers(result);
  if (blocking.length > 0) {
    throw (result.questions.length || result.problems.length ? invalid : conflict)(
      `Cannot add the import to the draft: ${blocking.join("; ")}`,
    );
  }
  const added = counts(result.changes);
  await db.$transaction(
    async (tx) => {
      await claimDraftVersion(tx, input.clusterId, input.draftVersion);
      await insertChanges(tx, input.clusterId, result.changes, result.policy.settings);
      await recordAudit(tx, {
        actor,
        meta,
        action: "draft.import",
        clusterId: input.clusterId,
        targetType: "draft",
        targetId: input.clusterId,
        after: {
          format: result.format,
          fileName: input.fileName ?? null,
          lines: lineCounts(result),
          added,
          answers: input.answers ?? {},
          ...result.changes,
        },
      });
    },
    { timeout: 120_000, maxWait: 20_000 },
  );
  return { draftVersion: input.draftVersion + 1, added, format: result.format };
}

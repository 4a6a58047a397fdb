import type { Db } from "../../db";
import { downgradeProblem, eventProblem, GENESIS_HASH, HASH_KEYED, HASH_UNKEYED } from "./chain";

/**
 * Checks the audit hash chain: every event's hash over its own fields, every event's link to the
 * one before it, the first remaining event's link to the prune anchor (the last event retention
 * deleted, or the genesis hash), and the last event against the chain head, which catches
 * deleting the newest events. Every event that fails is named, not only the first, so one bad
 * row cannot hide later tampering.
 *
 * Events written before the chain was keyed (hash version 1) are checked with the plain hash and
 * counted as unkeyed; an unkeyed event after a keyed one can only be a rewrite by someone without
 * the key, and is named as such.
 */

export interface ChainProblem {
  seq: number;
  /** true when seq names an event that is no longer there */
  missing: boolean;
  reason: string;
}

/** The events checked without the key because they were written before the chain was keyed. */
export interface UnkeyedRun {
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export type ChainReport =
  | {
      intact: true;
      checked: number;
      /** verification started after this event (0: from the very first event) */
      anchorSeq: number;
      lastSeq: number;
      unkeyed: UnkeyedRun | null;
    }
  | {
      intact: false;
      checked: number;
      anchorSeq: number;
      /** the first event that does not check out (for missing events: the first one missing) */
      firstBadSeq: number;
      /** true when firstBadSeq names an event that is no longer there */
      missing: boolean;
      reason: string;
      /** every event that does not check out, in order (at most MAX_PROBLEMS of them) */
      problems: ChainProblem[];
      /** how many there are in all, listed or not */
      problemCount: number;
      unkeyed: UnkeyedRun | null;
    };

/** A report lists this many bad events at most; problemCount still counts them all. */
export const MAX_PROBLEMS = 500;

export interface ChainAnchor {
  seq: number;
  hash: string;
}

const PAGE = 2000;
/** A prune that lands while we walk moves the anchor; start again a few times before giving up. */
const MAX_RESTARTS = 3;

export async function readAnchor(db: Db): Promise<ChainAnchor> {
  const row = await db.auditRetention.findUnique({ where: { id: 1 }, select: { anchorSeq: true, anchorHash: true } });
  return row === null ? { seq: 0, hash: GENESIS_HASH } : { seq: row.anchorSeq, hash: row.anchorHash };
}

type Outcome = ChainReport | "anchor-moved";

async function walk(db: Db, anchor: ChainAnchor): Promise<Outcome> {
  // the head first: every event up to it had committed when it was read, later ones are ignored
  const head = await db.auditChainHead.findUnique({ where: { id: 1 }, select: { lastSeq: true, lastHash: true } });
  const end = head?.lastSeq ?? Number.MAX_SAFE_INTEGER;
  let prev = anchor.hash;
  let prevSeq = anchor.seq;
  let checked = 0;
  let firstKeyedSeq: number | null = null;
  const legacy: UnkeyedRun = { count: 0, firstSeq: 0, lastSeq: 0 };
  const problems: ChainProblem[] = [];
  let problemCount = 0;
  const problem = (seq: number, reason: string, missing = false) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS) problems.push({ seq, missing, reason });
  };
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: { seq: { gt: prevSeq, lte: end } },
      orderBy: { seq: "asc" },
      take: PAGE,
    });
    for (const row of rows) {
      const reasons: string[] = [];
      if (row.prevHash !== prev) {
        // a prune that committed after we read the anchor deletes what we were about to read
        const now = await readAnchor(db);
        if (now.seq !== anchor.seq || now.hash !== anchor.hash) return "anchor-moved";
        reasons.push(
          checked > 0
            ? `does not link to the event before it (#${prevSeq}): an event between them was deleted, or #${prevSeq} was changed`
            : anchor.seq > 0
              ? `does not link to the prune anchor (event #${anchor.seq}, the last one retention deleted)`
              : "does not start the chain: events before it are missing",
        );
      }
      if (row.hashVersion === HASH_UNKEYED && firstKeyedSeq !== null) {
        reasons.push(downgradeProblem(firstKeyedSeq));
      } else {
        const own = eventProblem(row);
        if (own !== null) reasons.push(own);
      }
      if (row.hashVersion === HASH_KEYED) firstKeyedSeq ??= row.seq;
      if (row.hashVersion === HASH_UNKEYED && firstKeyedSeq === null) {
        if (legacy.count++ === 0) legacy.firstSeq = row.seq;
        legacy.lastSeq = row.seq;
      }
      if (reasons.length > 0) problem(row.seq, reasons.join("; "));
      // go on from what is stored, so one bad event does not make every later one look bad
      prev = row.hash;
      prevSeq = row.seq;
      checked++;
    }
    if (rows.length < PAGE) break;
  }
  if (head !== null && (prevSeq !== head.lastSeq || prev !== head.lastHash)) {
    if (prevSeq < head.lastSeq) {
      problem(
        prevSeq + 1,
        `events after #${prevSeq} are missing: the chain head says the log ends at #${head.lastSeq}`,
        true,
      );
    } else {
      problem(prevSeq, "its hash is not the one the chain head recorded for the newest event");
    }
  }
  const unkeyed = legacy.count > 0 ? { ...legacy } : null;
  const first = problems[0];
  if (first === undefined) return { intact: true, checked, anchorSeq: anchor.seq, lastSeq: prevSeq, unkeyed };
  return {
    intact: false,
    checked,
    anchorSeq: anchor.seq,
    firstBadSeq: first.seq,
    missing: first.missing,
    reason: first.reason,
    problems,
    problemCount,
    unkeyed,
  };
}

export async function verifyAuditChain(db: Db): Promise<ChainReport> {
  for (let attempt = 0; ; attempt++) {
    const outcome = await walk(db, await readAnchor(db));
    if (outcome !== "anchor-moved") return outcome;
    if (attempt >= MAX_RESTARTS) {
      throw new Error("the audit log kept being pruned while it was verified; try again");
    }
  }
}

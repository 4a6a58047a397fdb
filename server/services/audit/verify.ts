import type { Db } from "../../db";
import { eventHash, GENESIS_HASH } from "./chain";

/**
 * Checks the audit hash chain: every event's hash over its own fields, every event's link to the
 * one before it, the first remaining event's link to the prune anchor (the last event retention
 * deleted, or the genesis hash), and the last event against the chain head, which catches
 * deleting the newest events. The first event that fails is named.
 */

export type ChainReport =
  | {
      intact: true;
      checked: number;
      /** verification started after this event (0: from the very first event) */
      anchorSeq: number;
      lastSeq: number;
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
    };

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
  const broken = (firstBadSeq: number, reason: string, missing = false): ChainReport => ({
    intact: false,
    checked,
    anchorSeq: anchor.seq,
    firstBadSeq,
    missing,
    reason,
  });
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: { seq: { gt: prevSeq, lte: end } },
      orderBy: { seq: "asc" },
      take: PAGE,
    });
    for (const row of rows) {
      if (row.prevHash !== prev) {
        // a prune that committed after we read the anchor deletes what we were about to read
        const now = await readAnchor(db);
        if (now.seq !== anchor.seq || now.hash !== anchor.hash) return "anchor-moved";
        if (checked > 0) {
          return broken(
            row.seq,
            `does not link to the event before it (#${prevSeq}): an event between them was deleted, or #${prevSeq} was changed`,
          );
        }
        return broken(
          row.seq,
          anchor.seq > 0
            ? `does not link to the prune anchor (event #${anchor.seq}, the last one retention deleted)`
            : "does not start the chain: events before it are missing",
        );
      }
      if (eventHash(row) !== row.hash) {
        return broken(row.seq, "its contents were changed after it was written");
      }
      prev = row.hash;
      prevSeq = row.seq;
      checked++;
    }
    if (rows.length < PAGE) break;
  }
  if (head !== null && (prevSeq !== head.lastSeq || prev !== head.lastHash)) {
    if (prevSeq < head.lastSeq) {
      return broken(
        prevSeq + 1,
        `events after #${prevSeq} are missing: the chain head says the log ends at #${head.lastSeq}`,
        true,
      );
    }
    return broken(prevSeq, "its hash is not the one the chain head recorded for the newest event");
  }
  return { intact: true, checked, anchorSeq: anchor.seq, lastSeq: prevSeq };
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

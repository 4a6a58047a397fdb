import type { Db } from "../../db";
import { eventHash, GENESIS_HASH } from "./chain";

export type ChainReport =
  | { intact: true; checked: number }
  | { intact: false; checked: number; firstBadSeq: number; reason: string };

const PAGE = 2000;

/** Walks the whole chain in order and names the first event whose hash or link does not match. */
export async function verifyAuditChain(db: Db): Promise<ChainReport> {
  let prev = GENESIS_HASH;
  let checked = 0;
  let after = 0;
  for (;;) {
    const rows = await db.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: "asc" }, take: PAGE });
    for (const row of rows) {
      if (row.prevHash !== prev) {
        return { intact: false, checked, firstBadSeq: row.seq, reason: "does not link to the event before it" };
      }
      if (eventHash(row) !== row.hash) {
        return {
          intact: false,
          checked,
          firstBadSeq: row.seq,
          reason: "its contents were changed after it was written",
        };
      }
      prev = row.hash;
      checked++;
    }
    const lastRow = rows.at(-1);
    if (rows.length < PAGE || lastRow === undefined) break;
    after = lastRow.seq;
  }
  return { intact: true, checked };
}

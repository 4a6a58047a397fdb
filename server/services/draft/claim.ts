import type { Tx } from "../../db";
import { staleVersion } from "../../errors";
import { getClusterOrThrow } from "../clusters/clusters";

/**
 * Claims the draft at the version a plan was made from, inside the transaction that writes the
 * plan: the version bump locks the draft, and a draft changed by someone else since (or a
 * cluster that is gone) refuses the write instead of mixing two plans.
 */
export async function claimDraftVersion(tx: Tx, clusterId: string, draftVersion: number): Promise<void> {
  const claimed = await tx.cluster.updateMany({
    where: { id: clusterId, draftVersion },
    data: { draftVersion: { increment: 1 } },
  });
  if (claimed.count === 0) {
    await getClusterOrThrow(tx, clusterId);
    throw staleVersion("The draft");
  }
}

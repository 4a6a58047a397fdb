import { z } from "zod";
import type { Db, Tx } from "../../db";
import { zId } from "../../../core/policy/model";
import { writePolicyDocument } from "../../../core/export/document";
import { exportIptables, exportIpvsadm, exportKeepalived } from "../../../core/export/scripts";
import { getClusterOrThrow } from "../clusters/clusters";
import { loadDraftPolicy } from "../draft/rows";
import { loadRevisionPolicy } from "../draft/revisions";

/** Any revision of a cluster (or its draft) as YAML, iptables-save, ipvsadm or keepalived text. */

export const EXPORT_FORMATS = ["yaml", "iptables", "ipvsadm", "keepalived"] as const;

export const zExportInput = z.object({
  clusterId: zId,
  revision: z.union([z.literal("draft"), z.number().int().min(0)]).default("draft"),
  format: z.enum(EXPORT_FORMATS).default("yaml"),
});
export type ExportInput = z.infer<typeof zExportInput>;

const EXTENSION = { yaml: "yaml", iptables: "iptables-save", ipvsadm: "ipvsadm", keepalived: "conf" } as const;

export async function exportPolicy(db: Db, input: ExportInput) {
  const cluster = await getClusterOrThrow(db, input.clusterId);
  const policy =
    input.revision === "draft"
      ? await loadDraftPolicy(db as unknown as Tx, cluster)
      : await loadRevisionPolicy(db, input.clusterId, input.revision);
  const what = input.revision === "draft" ? "draft" : `revision ${input.revision}`;
  const title = `cluster ${cluster.name} (${what})`;
  const out =
    input.format === "yaml"
      ? { text: writePolicyDocument(policy, cluster.name), notExpressible: [] as string[] }
      : input.format === "iptables"
        ? exportIptables(policy, title)
        : input.format === "ipvsadm"
          ? exportIpvsadm(policy, title)
          : exportKeepalived(policy, title);
  const suffix = input.revision === "draft" ? "draft" : `r${input.revision}`;
  return {
    format: input.format,
    revision: input.revision,
    fileName: `${cluster.name}-${suffix}.${EXTENSION[input.format]}`,
    ...out,
  };
}

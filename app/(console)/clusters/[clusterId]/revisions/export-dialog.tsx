"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { CopyButton, DownloadButton } from "../../../../components/copy-button";
import { Field } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";

const FORMATS = [
  { value: "yaml", label: "Gatehouse YAML (the whole policy; imports back identically)" },
  { value: "iptables", label: "iptables-save (nat table)" },
  { value: "ipvsadm", label: "ipvsadm rules (lvs-snat)" },
  { value: "keepalived", label: "keepalived.conf (lvs-snat snat_rule blocks)" },
] as const;
type Format = (typeof FORMATS)[number]["value"];

/** A revision (or the draft) as a file in one of the export formats: shown, copied or downloaded. */
export function ExportDialog({
  clusterId,
  revision,
  onClose,
}: {
  clusterId: string;
  revision: number | "draft";
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const [format, setFormat] = useState<Format>("yaml");
  const out = useQuery(trpc.export.policy.queryOptions({ clusterId, revision, format }));
  const title = revision === "draft" ? "Export the draft" : `Export revision ${revision}`;
  return (
    <Modal title={title} onClose={onClose} wide>
      <Field id="export-format" label="Format">
        <select id="export-format" value={format} onChange={(e) => setFormat(e.target.value as Format)}>
          {FORMATS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
      </Field>
      {out.isPending && <div className="loading">Exporting…</div>}
      {out.error && (
        <div className="banner error" role="alert">
          {errorMessage(out.error)}
        </div>
      )}
      {out.data && (
        <>
          {out.data.notExpressible.length > 0 && (
            <div className="banner warn" role="status" aria-label="Not expressible in this format">
              Not in this file, because the format cannot say it:
              <ul>
                {out.data.notExpressible.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </div>
          )}
          <Field id="export-text" label={out.data.fileName}>
            <textarea id="export-text" className="mono" readOnly rows={16} value={out.data.text} />
          </Field>
          <div className="row">
            <CopyButton text={out.data.text} label="Copy" />
            <DownloadButton text={out.data.text} filename={out.data.fileName} label="Download" />
            <div className="spacer" />
            <button className="primary" type="button" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      )}
    </Modal>
  );
}

"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type ChangeEvent, useState } from "react";
import { useCanEdit, useRefreshAll } from "@/app/components/hooks";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";
import { FORMAT_LABELS, IMPORT_FORMATS, type ImportFormat, type LineStatus } from "@/core/import/types";
import "@/app/components/editing.css";

const STATUS: Record<LineStatus, { label: string; badge: string }> = {
  imported: { label: "imported", badge: "ok" },
  merged: { label: "merged", badge: "ok" },
  ignored: { label: "ignored", badge: "" },
  "not-imported": { label: "not imported", badge: "warn" },
  question: { label: "question", badge: "danger" },
};

export default function ImportPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  const trpc = useTRPC();
  const refresh = useRefreshAll();
  const canEdit = useCanEdit();
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string | undefined>(undefined);
  const [files, setFiles] = useState<Record<string, string>>({});
  const [format, setFormat] = useState<ImportFormat | "auto">("auto");
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  // keepalived: whose file this is; its own VRRP values (priority, addresses) go into its settings
  const [gatewayId, setGatewayId] = useState("");
  const gateways = useQuery(trpc.gateway.list.queryOptions({ clusterId }));

  const preview = useMutation(trpc.import.preview.mutationOptions());
  const add = useMutation(
    trpc.import.add.mutationOptions({
      onSuccess: async (r) => {
        const a = r.added;
        setNotice(
          `Added to the draft: ${a.isps} ISP(s), ${a.pools} pool(s), ${a.zones} zone(s), ${a.rules} rule(s), ${a.virtualServices} virtual service(s)${a.haSettings ? ", HA settings" : ""}${a.gatewaySettings ? ", the gateway's VRRP values" : ""}. Nothing is published until you publish the draft.`,
        );
        preview.reset();
        setText("");
        setFiles({});
        setFileName(undefined);
        setAnswers({});
        await refresh();
      },
    }),
  );

  const input = () => ({
    clusterId,
    text,
    format: format === "auto" ? undefined : format,
    fileName,
    files: Object.keys(files).length ? files : undefined,
    answers,
    gatewayId: gatewayId === "" ? undefined : gatewayId,
  });

  async function upload(e: ChangeEvent<HTMLInputElement>) {
    const list = Array.from(e.target.files ?? []);
    if (list.length === 0) return;
    const [main, ...rest] = list;
    if (!main) return;
    setText(await main.text());
    setFileName(main.name);
    const more: Record<string, string> = {};
    for (const f of rest) more[f.name] = await f.text();
    setFiles(more);
    preview.reset();
  }

  const data = preview.data;
  return (
    <>
      <div className="page-head">
        <h1>Import</h1>
        <span className="muted">ipvsadm, iptables-save or keepalived.conf text becomes draft changes</span>
      </div>
      {notice && (
        <div className="banner ok" role="status">
          {notice} <Link href={`/clusters/${clusterId}/changes`}>Review the changes</Link>
        </div>
      )}
      <div className="card" style={{ marginBottom: 14 }}>
        <div className="row" style={{ marginBottom: 8, gap: 12, flexWrap: "wrap" }}>
          <label>
            Format{" "}
            <select value={format} onChange={(e) => setFormat(e.target.value as ImportFormat | "auto")}>
              <option value="auto">detect</option>
              {IMPORT_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {FORMAT_LABELS[f]}
                </option>
              ))}
            </select>
          </label>
          <label>
            File <input type="file" multiple onChange={upload} aria-label="Upload files" />
          </label>
          <label>
            keepalived file of{" "}
            <select
              value={gatewayId}
              onChange={(e) => {
                setGatewayId(e.target.value);
                preview.reset();
              }}
              aria-describedby="import-gateway-hint"
            >
              <option value="">no particular gateway</option>
              {(gateways.data?.gateways ?? []).map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
          <span className="muted small" id="import-gateway-hint">
            For keepalived, select the main file first and its included files after it. Name the gateway the file
            belongs to and its VRRP priority and own addresses go into that gateway's settings.
          </span>
        </div>
        <label htmlFor="import-text">Configuration text</label>
        <textarea
          id="import-text"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            preview.reset();
          }}
          rows={12}
          spellCheck={false}
          className="mono"
          style={{ width: "100%" }}
          placeholder="Paste ipvsadm -S, iptables-save or keepalived.conf text here"
        />
        <div className="row" style={{ marginTop: 8 }}>
          <button
            type="button"
            className="button primary"
            disabled={!text.trim() || preview.isPending || !canEdit}
            onClick={() => {
              setNotice(null);
              preview.mutate(input());
            }}
          >
            {preview.isPending ? "Reading…" : "Preview"}
          </button>
          {!canEdit && <span className="muted small">Importing needs the operator role.</span>}
        </div>
      </div>
      {preview.error && (
        <div className="banner error" role="alert">
          {errorMessage(preview.error)}
        </div>
      )}
      {data && (
        <>
          <div className="card" style={{ marginBottom: 14 }}>
            <div className="row" style={{ gap: 12, flexWrap: "wrap" }}>
              <strong>Read as {FORMAT_LABELS[data.format]}</strong>
              <span className="muted">
                {data.lineCount} lines: {data.lineCounts.imported} imported, {data.lineCounts.merged} merged,{" "}
                {data.lineCounts["not-imported"]} not imported, {data.lineCounts.ignored} ignored
                {data.lineCounts.question ? `, ${data.lineCounts.question} waiting for an answer` : ""}
              </span>
            </div>
            <p>
              Adds {data.counts.isps} ISP(s), {data.counts.pools} pool(s), {data.counts.zones} zone(s),{" "}
              {data.counts.rules} rule(s) and {data.counts.virtualServices} virtual service(s) to the draft
              {data.counts.haSettings > 0 ? ", and sets the HA settings" : ""}.
            </p>
            {data.notes.length > 0 && (
              <ul className="muted small">
                {data.notes.map((x) => (
                  <li key={x}>{x}</li>
                ))}
              </ul>
            )}
            {data.questions.length > 0 && (
              <section aria-label="Questions">
                <h2>Questions</h2>
                {data.questions.map((q) => (
                  <div key={q.key} style={{ marginBottom: 8 }}>
                    <label>
                      {q.prompt} <span className="muted small">(lines {q.lines.join(", ")})</span>
                      <br />
                      <input
                        value={answers[q.key] ?? ""}
                        onChange={(e) => setAnswers({ ...answers, [q.key]: e.target.value })}
                        placeholder={
                          q.expects === "nextHop" ? "198.51.100.1" : q.expects === "interface" ? "eth1" : "ISP name"
                        }
                      />
                    </label>
                  </div>
                ))}
                <button type="button" onClick={() => preview.mutate(input())} disabled={preview.isPending}>
                  Preview with these answers
                </button>
              </section>
            )}
            {data.problems.length > 0 && (
              <div className="banner error" role="alert">
                The draft would have these problems:
                <ul>
                  {data.problems.slice(0, 20).map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              </div>
            )}
            {data.warnings.length > 0 && (
              <div className="banner warn">
                New warnings:
                <ul>
                  {data.warnings.slice(0, 20).map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            )}
            {add.error && (
              <div className="banner error" role="alert">
                {errorMessage(add.error)}
              </div>
            )}
            <div className="row">
              <button
                type="button"
                className="button primary"
                disabled={data.blockers.length > 0 || add.isPending || !canEdit}
                onClick={() => add.mutate({ ...input(), draftVersion: data.draftVersion })}
              >
                Add to draft
              </button>
              {data.blockers.length > 0 && <span className="muted">Cannot add yet: {data.blockers.join("; ")}</span>}
            </div>
          </div>
          <table className="data" aria-label="Line by line">
            <thead>
              <tr>
                <th>Line</th>
                <th>Text</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {data.lines.map((l) => (
                <tr key={`${l.file}:${l.line}`}>
                  <td className="mono small">
                    {l.file && l.file !== "keepalived.conf" && l.file !== fileName ? `${l.file}:` : ""}
                    {l.line}
                  </td>
                  <td className="mono small" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                    {l.text}
                  </td>
                  <td>
                    <span className={`badge ${STATUS[l.status].badge}`}>{STATUS[l.status].label}</span> {l.message}
                    {l.changed.length > 0 && <div className="muted small">changed: {l.changed.join("; ")}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.lineCount > data.lines.length && (
            <p className="muted">
              The first {data.lines.length} of {data.lineCount} lines are listed.
            </p>
          )}
        </>
      )}
    </>
  );
}

"use client";

import { FormAlert } from "@/app/components/field";
import { Modal } from "@/app/components/modal";
import { errorMessage } from "@/app/lib/errors";
import type { BulkPreview } from "@/server/services/draft/bulk";
import { DialogActions } from "@/app/components/dialog-actions";

const n = (x: number) => x.toLocaleString("en-US");

/**
 * The preview of a bulk change or a move: every rule that changes, field by field, the rules
 * that stay as they are and why, and the problems that would stop it. Applying sends the draft
 * version the preview was made at, so what is applied is exactly what is shown.
 */
export function PlanDialog({
  title,
  preview,
  loading,
  error,
  applying,
  applyError,
  applyLabel,
  onApply,
  onClose,
}: {
  title: string;
  preview: BulkPreview | undefined;
  loading: boolean;
  error: unknown;
  applying: boolean;
  applyError: unknown;
  applyLabel: (count: number) => string;
  onApply: (draftVersion: number) => void;
  onClose: () => void;
}) {
  const blocked = !preview || preview.problems.length > 0 || preview.changeCount === 0 || preview.missing.length > 0;
  return (
    <Modal title={title} onClose={onClose} wide>
      <div className="dialog-body" aria-live="polite">
        {loading && <div className="loading">Working out exactly what changes…</div>}
        {Boolean(error) && <FormAlert messages={[errorMessage(error)]} />}
        {preview && (
          <>
            <p style={{ marginTop: 0 }} role="status">
              {preview.changeCount === 0 ? (
                <strong>Nothing to change: every selected rule already is that way.</strong>
              ) : (
                <>
                  <strong>
                    {n(preview.changeCount)} rule{preview.changeCount === 1 ? "" : "s"} will change
                  </strong>
                  {preview.unchangedCount > 0 && `, ${n(preview.unchangedCount)} stay as they are`}. The change goes
                  into the draft; gateways change when you publish.
                </>
              )}
            </p>
            {preview.problems.length > 0 && (
              <div className="banner error" role="alert">
                This cannot be applied: it would leave the draft with{" "}
                {preview.problems.length === 1 ? "a problem" : "problems"}:
                <ul style={{ margin: "6px 0 0", paddingLeft: 18 }}>
                  {preview.problems.slice(0, 20).map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              </div>
            )}
            {preview.missing.length > 0 && (
              <div className="banner error" role="alert">
                {preview.missing.length} selected rule
                {preview.missing.length === 1 ? " no longer exists" : "s no longer exist"}: reload the page and select
                again.
              </div>
            )}
            {preview.summary.length > 0 && (
              <table className="data" aria-label="Summary of changes" style={{ marginBottom: 10 }}>
                <thead>
                  <tr>
                    <th>Field</th>
                    <th>Before</th>
                    <th>After</th>
                    <th className="num">Rules</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.summary.map((s) => (
                    <tr key={`${s.label}-${s.before}-${s.after}`}>
                      <td>{s.label}</td>
                      <td className="val-before">{s.before}</td>
                      <td className="val-after">{s.after}</td>
                      <td className="num">{n(s.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {preview.changes.length > 0 && (
              <div className="scroll-list">
                <table className="data" aria-label="Changes rule by rule">
                  <thead>
                    <tr>
                      <th>Rule</th>
                      <th>Change</th>
                    </tr>
                  </thead>
                  <tbody>
                    {preview.changes.map((c) => (
                      <tr key={c.ruleId}>
                        <td>{c.title}</td>
                        <td>
                          {c.change === "removed" ? (
                            <span className="badge danger">deleted</span>
                          ) : (
                            c.fields.map((f) => (
                              <div key={f.path}>
                                {f.label}: <span className="val-before">{f.before}</span>
                                <span className="arrow">→</span>
                                <span className="val-after">{f.after}</span>
                              </div>
                            ))
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {preview.changeCount > preview.changes.length && (
                  <p className="muted small">
                    The first {n(preview.changes.length)} of {n(preview.changeCount)} are listed; the summary above
                    counts them all.
                  </p>
                )}
              </div>
            )}
            {preview.unchangedCount > 0 && (
              <details style={{ marginTop: 8 }}>
                <summary>
                  {n(preview.unchangedCount)} selected rule{preview.unchangedCount === 1 ? "" : "s"} stay as they are
                </summary>
                <ul className="scroll-list small">
                  {preview.unchanged.map((u) => (
                    <li key={u.ruleId}>
                      {u.title}: {u.reason}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </>
        )}
        {Boolean(applyError) && <FormAlert messages={[errorMessage(applyError)]} />}
      </div>
      <DialogActions
        onCancel={onClose}
        confirmLabel={applyLabel(preview?.changeCount ?? 0)}
        pendingLabel="Applying…"
        pending={applying}
        disabled={blocked}
        onConfirm={() => preview && onApply(preview.draftVersion)}
      />
    </Modal>
  );
}

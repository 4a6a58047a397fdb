import type { ReactNode } from "react";
import "./editing.css";

/**
 * The row of buttons at the foot of every dialog: anything leading on the left, then Cancel, then
 * the one button that does the dialog's work, which reads `pendingLabel` while that work runs.
 * Without `onConfirm` the confirm button submits the dialog's form. A dialog that destroys
 * something passes `tone="danger"`, and focus then starts on Cancel, so Enter never destroys
 * by accident.
 */
export function DialogActions({
  confirmLabel,
  pendingLabel,
  pending,
  disabled = false,
  tone = "primary",
  onConfirm,
  onCancel,
  cancelLabel = "Cancel",
  leading,
}: {
  confirmLabel: string;
  pendingLabel: string;
  pending: boolean;
  disabled?: boolean;
  tone?: "primary" | "danger";
  /** what the confirm button does; without it the button submits the form it sits in */
  onConfirm?: () => void;
  onCancel: () => void;
  cancelLabel?: string;
  leading?: ReactNode;
}) {
  return (
    <div className="dialog-actions">
      {leading}
      <button type="button" onClick={onCancel} data-autofocus={tone === "danger" ? true : undefined}>
        {cancelLabel}
      </button>
      <button
        type={onConfirm ? "button" : "submit"}
        className={tone}
        disabled={pending || disabled}
        onClick={onConfirm}
      >
        {pending ? pendingLabel : confirmLabel}
      </button>
    </div>
  );
}

"use client";

import { FormAlert } from "./field";

/**
 * The end of a form that saves to the draft: what went wrong, "Saved to the draft" with what
 * happens next, and Save / Reset for those who may edit.
 */
export function DraftFormFooter({
  messages,
  saved,
  problems,
  afterPublish,
  canEdit,
  dirty,
  pending,
  onReset,
}: {
  /** messages that belong to no field */
  messages: string[];
  saved: boolean;
  /** problems the draft has in this form's fields since the save */
  problems: number;
  /** what publishing does, e.g. "The gateway changes when you publish it." */
  afterPublish: string;
  canEdit: boolean;
  dirty: boolean;
  pending: boolean;
  onReset: () => void;
}) {
  return (
    <>
      <FormAlert messages={messages} />
      {saved && (
        <div className={`banner ${problems > 0 ? "warn" : "ok"}`} role="status">
          Saved to the draft. {problems > 0 ? "Fix the problems marked here before publishing." : afterPublish}
        </div>
      )}
      {canEdit && (
        <div className="row">
          <button className="primary" type="submit" disabled={!dirty || pending}>
            {pending ? "Saving…" : "Save to draft"}
          </button>
          {dirty && (
            <button type="button" onClick={onReset}>
              Reset
            </button>
          )}
        </div>
      )}
    </>
  );
}

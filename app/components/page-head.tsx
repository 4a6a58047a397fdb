"use client";

import type { ReactNode } from "react";
import { ENTITY_NOUN, type EntityKind } from "@/core/policy/entities";

/** "3 pools", "1 uplink"; nothing while there are none (the table says so itself). */
export function countOf(n: number, word: string): string | null {
  return n > 0 ? `${n} ${word}${n === 1 ? "" : "s"}` : null;
}

/** A page's title with a note beside it and its main actions at the right. */
export function PageHead({ title, note, children }: { title: string; note?: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-head">
      <h1>{title}</h1>
      <span className="muted">{note}</span>
      <div className="spacer" />
      {children}
    </div>
  );
}

/** The button that opens the form for a new entity ("New ISP"). */
export function NewButton({
  kind,
  onClick,
  disabled,
  title,
}: {
  kind: EntityKind;
  onClick: () => void;
  disabled?: boolean;
  /** a tooltip: why it is disabled, or its shortcut */
  title?: string;
}) {
  return (
    <button className="primary" type="button" onClick={onClick} disabled={disabled} title={title}>
      New {ENTITY_NOUN[kind]}
    </button>
  );
}

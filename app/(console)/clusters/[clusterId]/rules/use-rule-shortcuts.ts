"use client";

import { type RefObject, useEffect } from "react";

/** "/" searches, "n" starts a new rule, from anywhere on the page that is not a text field or a dialog. */
export function useRuleShortcuts(searchRef: RefObject<HTMLInputElement | null>, openNew: (() => void) | null) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.closest("input, select, textarea, [role=dialog]") || t.isContentEditable)) return;
      if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === "n" && openNew) {
        e.preventDefault();
        openNew();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [searchRef, openNew]);
}

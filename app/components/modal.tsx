"use client";

import { type ReactNode, useEffect, useRef } from "react";
import "./editing.css";

/**
 * A modal <dialog> that is open while mounted: focus moves into it (to the element marked
 * `data-autofocus`), Escape closes it, and focus goes back to what had it before.
 */
export function Modal({
  title,
  onClose,
  children,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    const before = document.activeElement as HTMLElement | null;
    if (d && !d.open) {
      d.showModal();
      // browsers differ on what showModal focuses: the element marked data-autofocus, else the first control
      const first =
        d.querySelector<HTMLElement>("[data-autofocus]") ??
        d.querySelector<HTMLElement>("input, select, textarea, button");
      first?.focus();
    }
    return () => {
      d?.close();
      before?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-label={title}
      className={wide ? "wide" : undefined}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 style={{ marginTop: 0 }}>{title}</h2>
      {children}
    </dialog>
  );
}

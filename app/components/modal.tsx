"use client";

import * as Dialog from "@radix-ui/react-dialog";
import { type ReactNode, useState } from "react";
import "./editing.css";

/**
 * The one modal dialog of the console, open while mounted. Radix keeps focus inside it, closes it
 * on Escape and labels it with its title. Focus starts on the element marked `data-autofocus` (or
 * one that focused itself with `autoFocus`), else on the first control, and goes back to whatever
 * had it before the dialog opened: our dialogs have no Radix trigger, so the opener is remembered here.
 * A click beside the dialog does not close it, so a half-filled form is never lost to a stray click.
 */
export function Modal({
  title,
  onClose,
  children,
  wide = false,
  className,
}: {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  className?: string;
}) {
  // read during the first render, before the dialog takes focus
  const [opener] = useState(() =>
    typeof document === "undefined" ? null : (document.activeElement as HTMLElement | null),
  );
  return (
    <Dialog.Root
      open
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content
          className={["dialog", wide ? "wide" : "", className ?? ""].filter(Boolean).join(" ")}
          aria-describedby={undefined}
          onOpenAutoFocus={(e) => {
            const content = e.currentTarget as HTMLElement;
            if (content.contains(document.activeElement)) {
              e.preventDefault();
              return;
            }
            const marked = content.querySelector<HTMLElement>("[data-autofocus]");
            if (marked) {
              e.preventDefault();
              marked.focus();
            }
          }}
          onCloseAutoFocus={(e) => {
            e.preventDefault();
            if (opener?.isConnected) opener.focus();
          }}
          onPointerDownOutside={(e) => e.preventDefault()}
        >
          <Dialog.Title className="dialog-title">{title}</Dialog.Title>
          {children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

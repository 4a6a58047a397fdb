"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CheckField } from "../../../../components/field";
import { Modal } from "../../../../components/modal";
import { errorMessage } from "../../../../lib/errors";
import { useTRPC } from "../../../../lib/trpc";
import { EnrollTokenDialog, type IssuedToken } from "./enroll-token-dialog";
import { DialogActions } from "@/app/components/dialog-actions";

/** What an admin does to one gateway from the list, after confirming it. */
export type GatewayAction = { kind: "rotate" | "revoke" | "delete"; id: string; name: string };

const TEXTS = {
  rotate: {
    title: (name: string) => `New enrollment token for ${name}`,
    body: "The gateway's agent keeps its current token until it enrolls again with the new one, so it is never cut off in between. Any enrollment token issued before stops working.",
    button: "Issue token",
  },
  revoke: {
    title: (name: string) => `Revoke ${name}`,
    body: "Its agent token and any unused enrollment token stop working at once. The gateway keeps enforcing the rules it last applied, but no longer receives changes until it is enrolled again.",
    button: "Revoke",
  },
  delete: {
    title: (name: string) => `Delete ${name}`,
    body: "The console forgets this gateway and its token stops working. The gateway keeps the rules it last applied until its agent is stopped and its table removed by hand.",
    button: "Delete",
  },
} as const;

/** Confirms a new enrollment token (then shows it), a revocation or a deletion. */
export function GatewayActionDialog({
  action,
  clusterId,
  onClose,
}: {
  action: GatewayAction;
  clusterId: string;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [revokeCurrent, setRevokeCurrent] = useState(false);
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.gateway.list.queryKey({ clusterId }) });
  const closeAndRefresh = async () => {
    await refresh();
    onClose();
  };
  const rotate = useMutation(
    trpc.gateway.rotateToken.mutationOptions({
      onSuccess: async (r) => {
        setIssued(r);
        await refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.gateway.revoke.mutationOptions({ onSuccess: closeAndRefresh }));
  const remove = useMutation(trpc.gateway.delete.mutationOptions({ onSuccess: closeAndRefresh }));
  const pending = rotate.isPending || revoke.isPending || remove.isPending;
  const error = rotate.error ?? revoke.error ?? remove.error;

  if (issued) {
    return <EnrollTokenDialog title={TEXTS.rotate.title(issued.name)} issued={issued} onClose={onClose} />;
  }
  const text = TEXTS[action.kind];
  return (
    <Modal title={text.title(action.name)} onClose={onClose}>
      <p>{text.body}</p>
      {action.kind === "rotate" && (
        <CheckField
          id="revoke-current"
          label="Also revoke the agent token in use now (it may have leaked); the gateway goes offline until re-enrolled"
        >
          <input
            id="revoke-current"
            type="checkbox"
            checked={revokeCurrent}
            onChange={(e) => setRevokeCurrent(e.target.checked)}
          />
        </CheckField>
      )}
      {error && (
        <div className="banner error" role="alert">
          {errorMessage(error)}
        </div>
      )}
      <DialogActions
        tone={action.kind === "rotate" ? "primary" : "danger"}
        onCancel={onClose}
        confirmLabel={text.button}
        pendingLabel="Working…"
        pending={pending}
        onConfirm={() => {
          if (action.kind === "rotate") rotate.mutate({ id: action.id, revokeCurrent });
          else if (action.kind === "revoke") revoke.mutate({ id: action.id });
          else remove.mutate({ id: action.id });
        }}
      />
    </Modal>
  );
}

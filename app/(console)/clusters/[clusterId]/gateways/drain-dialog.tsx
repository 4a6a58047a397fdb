"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { DialogActions } from "@/app/components/dialog-actions";
import { useRefreshAll } from "@/app/components/hooks";
import { Modal } from "@/app/components/modal";
import { errorMessage } from "@/app/lib/errors";
import { useTRPC } from "@/app/lib/trpc";

/**
 * The confirmation of draining a gateway (or returning it to service): what moves where, from the
 * published policy and the masters the gateways report, before anything changes.
 */
export function DrainDialog({
  gatewayId,
  gatewayName,
  drain,
  onClose,
}: {
  gatewayId: string;
  gatewayName: string;
  drain: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refreshAll = useRefreshAll();
  const preview = useQuery(trpc.gateway.drainPreview.queryOptions({ gatewayId, drain }, { staleTime: 0 }));
  const run = useMutation(
    trpc.gateway.drain.mutationOptions({
      onSuccess: async () => {
        await refreshAll();
        onClose();
      },
    }),
  );
  const title = drain ? `Drain ${gatewayName}` : `Return ${gatewayName} to service`;
  return (
    <Modal title={title} onClose={onClose} wide>
      <p className="muted">
        {drain
          ? "Every VRRP group of this gateway drops to priority 1, so its peers take over the addresses it holds. The gateway keeps running its rules and can be returned to service at any time."
          : "The gateway gets its VRRP priorities back and can hold its groups again."}
      </p>
      {preview.isPending && <div className="loading">Working out what moves…</div>}
      {preview.error && (
        <div className="banner error" role="alert">
          {errorMessage(preview.error)}
        </div>
      )}
      {preview.data && (
        <section aria-label="Effect">
          <h3>What happens</h3>
          <ul>
            {preview.data.effect.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </section>
      )}
      {run.error && (
        <div className="banner error" role="alert">
          {errorMessage(run.error)}
        </div>
      )}
      <DialogActions
        confirmLabel={drain ? "Drain" : "Return to service"}
        pendingLabel={drain ? "Draining…" : "Returning…"}
        pending={run.isPending}
        disabled={!preview.data}
        tone={drain ? "danger" : "primary"}
        onConfirm={() => run.mutate({ gatewayId, drain })}
        onCancel={onClose}
      />
    </Modal>
  );
}
